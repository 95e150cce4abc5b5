/** The two Debian tools the bench drives: present, installed with apt-get, or reported missing. */
import { execFileSync } from 'node:child_process';

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function aptInstall(debianPackage: string): boolean {
  const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: 'ignore', timeout: 120_000 });
  try {
    apt(['install', '-y', debianPackage]);
    return true;
  } catch {
    // A fresh container often has no package lists yet.
    try {
      apt(['update']);
      apt(['install', '-y', debianPackage]);
      return true;
    } catch {
      return false;
    }
  }
}

/** Whether `command` can be run, installing `debianPackage` first when apt-get is there and allowed to. */
export function ensureTool(command: string, debianPackage: string): { ok: boolean; note?: string } {
  if (onPath(command)) return { ok: true };
  if (!onPath('apt-get'))
    return { ok: false, note: `${command} is not installed and this system has no apt-get (package ${debianPackage})` };
  console.log(`installing ${debianPackage} with apt-get …`);
  if (aptInstall(debianPackage) && onPath(command)) return { ok: true };
  return { ok: false, note: `${command} is not installed and apt-get could not install ${debianPackage}` };
}
