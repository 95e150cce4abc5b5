/** Processes read from /proc (Linux): how the soak finds, measures and finally stops what `wrangler dev` started. */
import { readdirSync, readFileSync } from 'node:fs';

function read(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** The `stat` fields after the command name, which may hold spaces and parentheses: state, ppid, pgrp, … */
function statFields(pid: number): string[] | undefined {
  const stat = read(pid, 'stat');
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Every live descendant of `root`, nearest first. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number(statFields(Number(entry))?.[1]);
    if (Number.isInteger(parent)) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

export function commandName(pid: number): string | undefined {
  return read(pid, 'comm')?.trim();
}

/** The process's arguments joined by spaces, or '' once it is gone. */
export function commandLine(pid: number): string {
  return (read(pid, 'cmdline') ?? '').replaceAll('\0', ' ');
}

/** Whether `pid` is alive (not a zombie) and still in process group `group`. */
export function inGroup(pid: number, group: number): boolean {
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== 'Z' && Number(fields[2]) === group;
}

/** A process's peak resident set size (`VmHWM`) in bytes, or `undefined` once it is gone. */
export function peakRssBytes(pid: number): number | undefined {
  const match = /VmHWM:\s+(\d+) kB/.exec(read(pid, 'status') ?? '');
  return match ? Number(match[1]) * 1024 : undefined;
}
