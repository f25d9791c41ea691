/**
 * The dashboard's server-rendered pages: the shell at `/ui` and the OpenAPI viewer at
 * `/ui/openapi`. They hold no data (the data calls need a token; the pages do not); the
 * client modules fill them in.
 */
import type { Child } from 'hono/jsx'

function Layout(props: { title: string; script: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="stylesheet" href="/ui/assets/dashboard.css" />
        <script type="module" src={`/ui/assets/${props.script}`}></script>
      </head>
      <body>
        <header>
          <h1>Switchboard</h1>
          <nav aria-label="Pages">
            <a href="/ui">Dashboard</a> · <a href="/ui/openapi">OpenAPI</a>
          </nav>
          <span class="spacer"></span>
          <span id="who" aria-live="polite"></span>
          <button id="sign-out" type="button" class="secondary" hidden>
            Sign out
          </button>
        </header>
        <main>
          <section id="sign-in-section" aria-labelledby="sign-in-title" hidden>
            <h2 id="sign-in-title">Sign in</h2>
            <ActionForm id="sign-in" submit="Sign in">
              <Field label="Bearer token">
                <input id="token" name="token" type="password" autocomplete="off" required size={48} />
              </Field>
            </ActionForm>
            <p id="sign-in-error" class="error" role="alert"></p>
            <p class="note">The token is kept in this tab's session storage only, and cleared on sign-out.</p>
          </section>
          {props.children}
        </main>
      </body>
    </html>
  )
}

/** An input or select with its label around it. */
function Field(props: { label: string; children?: Child }) {
  return (
    <label>
      {props.label}
      {props.children}
    </label>
  )
}

/** A form the client handles, with its fields and one submit button. */
function ActionForm(props: { id: string; submit: string; children?: Child }) {
  return (
    <form id={props.id}>
      {props.children}
      <button type="submit">{props.submit}</button>
    </form>
  )
}

/** A table the client fills in: its column headers, an empty body. */
function DataTable(props: { id: string; columns: string[] }) {
  return (
    <table id={props.id}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th scope="col">{c}</th>
          ))}
        </tr>
      </thead>
      <tbody></tbody>
    </table>
  )
}

export function dashboardPage(): string {
  return doctype(
    <Layout title="Switchboard dashboard" script="dashboard.js">
      <div id="app" hidden>
        <p id="connection" class="note" role="status"></p>
        <p id="live" class="note" aria-live="polite"></p>
        <section aria-labelledby="ns-title">
          <h2 id="ns-title">Namespaces</h2>
          <form id="ns-form">
            <Field label="Namespace">
              <select id="namespace" name="namespace"></select>
            </Field>
          </form>
          <p id="namespaces" class="note"></p>
        </section>
        <section aria-labelledby="svc-title">
          <h2 id="svc-title">Services</h2>
          <DataTable id="services" columns={['Name', 'Type', 'ClusterIP', 'Ports', 'Selector']} />
        </section>
        <section aria-labelledby="ep-title">
          <h2 id="ep-title">Endpoints</h2>
          <div id="endpoints"></div>
        </section>
        <section aria-labelledby="pod-title">
          <h2 id="pod-title">Pods</h2>
          <DataTable id="pods" columns={['Name', 'IP', 'Labels', 'Conditions', 'Weight', 'Lease left', 'Actions']} />
          <h3>Change a weight</h3>
          <ActionForm id="weight-form" submit="Set weight">
            <Field label="Pod">
              <select id="weight-pod" name="pod"></select>
            </Field>
            <Field label="Weight (0–65535, 0 drains)">
              <input id="weight-value" name="weight" type="number" min={0} max={65535} required />
            </Field>
          </ActionForm>
          <p id="weight-result" role="status" aria-live="polite"></p>
        </section>
        <section aria-labelledby="pick-title">
          <h2 id="pick-title">Pick simulator</h2>
          <ActionForm id="pick-form" submit="Run picks">
            <Field label="Service">
              <select id="pick-service" name="service"></select>
            </Field>
            <Field label="Picks">
              <input id="pick-count" name="count" type="number" min={1} max={1000} value="100" required />
            </Field>
          </ActionForm>
          <div id="pick-result" role="status" aria-live="polite"></div>
        </section>
        <section aria-labelledby="dns-title">
          <h2 id="dns-title">DNS</h2>
          <ActionForm id="dns-form" submit="Resolve">
            <Field label="Name">
              <input id="dns-name" name="name" type="text" required size={48} />
            </Field>
            <Field label="Type">
              <input id="dns-type" name="type" type="text" value="A" list="dns-types" size={6} required />
            </Field>
            <datalist id="dns-types">
              {['A', 'AAAA', 'SRV', 'PTR', 'TXT', 'CNAME', 'SOA', 'NS', 'ANY'].map((t) => (
                <option value={t}></option>
              ))}
            </datalist>
          </ActionForm>
          <pre id="dig" aria-live="polite" tabindex={0}></pre>
        </section>
        <section id="tokens-section" aria-labelledby="tok-title" hidden>
          <h2 id="tok-title">Tokens</h2>
          <DataTable id="tokens" columns={['Name', 'Role', 'Namespaces', 'Expires', 'Actions']} />
          <h3>Create a token</h3>
          <ActionForm id="token-form" submit="Create token">
            <Field label="Name">
              <input id="token-name" name="name" type="text" required />
            </Field>
            <Field label="Role">
              <select id="token-role" name="role">
                <option value="read">read</option>
                <option value="register">register</option>
                <option value="admin">admin</option>
              </select>
            </Field>
            <Field label="Namespaces (comma-separated, or *)">
              <input id="token-namespaces" name="namespaces" type="text" required />
            </Field>
            <Field label="Expires at (RFC 3339, optional)">
              <input id="token-expires" name="expiresAt" type="text" />
            </Field>
          </ActionForm>
          <div id="token-result" role="status" aria-live="polite"></div>
        </section>
      </div>
    </Layout>,
  )
}

export function openApiPage(): string {
  return doctype(
    <Layout title="Switchboard OpenAPI" script="openapi.js">
      <div id="app" hidden>
        <ActionForm id="doc-form" submit="Show">
          <Field label="Document">
            <select id="doc" name="doc">
              <option value="/openapi/v2">/openapi/v2</option>
            </select>
          </Field>
        </ActionForm>
        <p id="doc-status" role="status" aria-live="polite"></p>
        <div id="tree"></div>
      </div>
    </Layout>,
  )
}

function doctype(page: unknown): string {
  return `<!DOCTYPE html>${String(page)}`
}
