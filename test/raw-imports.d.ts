/** Vite's `?raw` import: a file's text, as the docs tests read the documentation they check. */
declare module '*.md?raw' {
  const text: string;
  export default text;
}

/** The worked example policies (examples/policies/*.toml), run as written. */
declare module '*.toml?raw' {
  const text: string;
  export default text;
}
