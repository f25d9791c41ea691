/**
 * A workload process for lease tests, run as `node --import tsx test/support/lease-holder.ts <mode>`
 * so that a test can SIGKILL it: nothing it set up is cleaned up, and its lease simply
 * stops being renewed.
 *
 * - `register`: registers POD_NAME (POD_IP, label app=APP, port http 8080) through the SDK
 *   with a LEASE_SECONDS lease and prints `registered <name>`;
 * - `lead`: contends for the lease LEASE as IDENTITY (LEASE_SECONDS, RENEW_DEADLINE_SECONDS,
 *   RETRY_PERIOD_SECONDS) and prints `leading <identity>` when it leads.
 *
 * Either then stays up until killed.
 */
import { Switchboard } from '../../sdk/src/index'

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const sb = new Switchboard({ baseUrl: env('SWITCHBOARD_URL'), token: env('SWITCHBOARD_TOKEN') })
// The SDK's timers do not keep a process alive; the workload itself would.
setInterval(() => {}, 60_000)

const mode = process.argv[2]
if (mode === 'register') {
  const name = env('POD_NAME')
  await sb.register({ name, ip: env('POD_IP'), labels: { app: env('APP') }, ports: { http: 8080 } }, { leaseDurationSeconds: Number(env('LEASE_SECONDS', '2')) })
  console.log(`registered ${name}`)
} else if (mode === 'lead') {
  const identity = env('IDENTITY')
  const elector = sb.leaderElection({
    lease: env('LEASE'),
    identity,
    leaseDurationSeconds: Number(env('LEASE_SECONDS')),
    renewDeadlineSeconds: Number(env('RENEW_DEADLINE_SECONDS')),
    retryPeriodSeconds: Number(env('RETRY_PERIOD_SECONDS')),
    onStartedLeading: () => console.log(`leading ${identity}`),
    onStoppedLeading: () => console.log(`stopped ${identity}`),
  })
  void elector.run()
} else {
  throw new Error(`unknown mode ${mode}: register or lead`)
}
