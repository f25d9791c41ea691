/** The dashboard's stylesheet (`/ui/assets/dashboard.css`): system fonts, contrast of at least 4.5:1, a visible focus ring. */
export const STYLES = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4a4a4a; --bg: #ffffff; --line: #c8c8c8; --accent: #0b57d0; --bad: #a4000f; --good: #0a6b2d; --panel: #f4f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; background: #14213d; color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; }
header a { color: #fff; }
header .spacer { flex: 1; }
main { padding: 1rem; max-width: 80rem; }
section { margin: 0 0 1.5rem; }
h2 { font-size: 1.1rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: .8rem 0 .3rem; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: var(--panel); }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .4rem 0; }
label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .1rem; }
input, select, button { font: inherit; padding: .25rem .45rem; border: 1px solid #767676; border-radius: 3px; background: #fff; color: var(--fg); }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
td button { font-size: .85rem; padding: .1rem .4rem; margin: 0 .2rem .2rem 0; }
:focus-visible { outline: 3px solid #e37400; outline-offset: 2px; }
.chip { display: inline-block; background: var(--panel); border: 1px solid var(--line); border-radius: 3px; padding: 0 .3rem; margin: 0 .2rem .2rem 0; font-size: .85rem; }
.true { color: var(--good); font-weight: 600; }
.false { color: var(--bad); font-weight: 600; }
.error { color: var(--bad); }
.note { color: var(--muted); font-size: .9rem; }
pre { background: var(--panel); border: 1px solid var(--line); padding: .6rem; overflow: auto; }
.secret { font-family: monospace; background: #fff8c5; border: 1px solid #9a6700; padding: .4rem; word-break: break-all; }
svg text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg .expected { fill: #8fb3f0; }
svg .observed { fill: var(--accent); }
details { margin-left: 1rem; }
summary { cursor: pointer; }
.key { color: #6e2b8a; }
.scalar { font-family: monospace; }
[hidden] { display: none !important; }
`
