/** One structured line per event, so logs can be queried by field in Workers Logs. */
export type Logger = (event: string, fields?: Record<string, unknown>) => void;

export const consoleLogger: Logger = (event, fields) => {
  console.log(JSON.stringify({ event, ...fields }));
};
