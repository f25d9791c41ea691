/** Files imported as text through Vite's `?raw` suffix (vitest bundles them, on Node and in workerd alike). */
declare module '*?raw' {
  const text: string
  export default text
}
