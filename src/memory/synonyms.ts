import { stem } from './terms.js';

/**
 * A small built-in thesaurus of software vocabulary: words people use for the same thing.
 * Each line is one group; a cue word in a group brings in the others (at a lower weight than
 * the cue's own words, see recall.ts). General engineering usage, not any one project's names.
 */
const GROUPS = `
auth authentication authenticate login logon signin sign-in credentials sso
password passwords passphrase credential secret
token tokens jwt bearer apikey key
permission permissions role roles access authorization rbac privilege
deploy deployment deploys release releases ship shipping rollout launch
flaky flakey intermittent intermittently random randomly unreliable nondeterministic sporadic
bug defect issue problem error fault
crash crashes segfault panic abort
slow slowness latency sluggish performance lag
fast quick speed
test tests spec specs testing suite
e2e end-to-end integration system
ci pipeline build workflow actions
compile compiled compiler build transpile tsc
database db postgres postgresql mysql sqlite sql
table tables schema
migration migrations schema-change
query queries sql statement
cache caching cached memoize redis
queue queues broker kafka rabbitmq sqs
job jobs task tasks worker workers background
cron scheduled schedule periodic nightly
config configuration settings setting options env environment
variable variables env
log logs logging logger
metric metrics monitoring observability dashboard grafana prometheus
alert alerts alerting page paging pager on-call oncall
error errors exception exceptions failure failures
retry retries retried backoff attempts
timeout timeouts deadline
frontend front-end client ui web browser
backend back-end server api service
endpoint endpoints route routes url
request requests call calls
response responses reply
webhook webhooks callback callbacks
email emails mail mailer newsletter
notification notifications alert push
user users customer customers account accounts client
payment payments billing invoice invoices charge card stripe
price prices pricing cost costs amount
refund refunds chargeback money-back
order orders purchase purchases checkout cart basket
delete deletion remove removal erase purge
archive archived retention
backup backups snapshot snapshots
upload uploads attachment attachments file files
image images picture pictures photo photos thumbnail
video videos clip clips media
container containers docker image
kubernetes k8s cluster pod pods helm
infrastructure infra terraform iac
server servers host hosts machine instance node
memory ram heap oom leak
disk storage bucket s3
network networking connection connections socket
owner owns maintainer maintains responsible contact approve
document documentation docs doc runbook guide readme wiki
decision decided adr chose chosen
folder directory dir path
repo repository monorepo
branch branches main master trunk
merge merging pr pull-request review
dependency dependencies package packages library libraries module modules
upgrade upgrading bump update version versions
lint linter linting eslint prettier format formatter
type types typing typescript typed
mobile phone android ios app
translation translations i18n localization locale locales
search index indexing lookup
encrypt encrypted encryption tls https ssl certificate certificates
rate-limit ratelimit throttle throttled throttling limit
staging pre-production preprod sandbox
production prod live
local laptop localhost dev development
feature-flag flag flags toggle toggles experiment
timezone utc zone clock time
date dates timestamp timestamps
admin administrator back-office backoffice staff
recommendation recommendations suggestion suggestions recommend suggest
nightly overnight night daily
dark-mode night-mode dark theme
duplicate duplicates twice idempotent idempotency dedupe deduplicate
captcha recaptcha hcaptcha bot bots
a11y accessibility accessible aria screen-reader
support helpdesk help-desk customer-service ticket tickets
incident incidents outage outages postmortem downtime
sms text-message otp one-time
proxy gateway nginx load-balancer ingress reverse-proxy
healthcheck health-check liveness readiness probe probes
replica replicas secondary follower read-replica
realtime real-time websocket websockets sse live streaming
bill bills billing invoicing
experiment experiments variant variants a/b bucket buckets
font fonts typeface
hostname dns domain domains
swagger openapi explorer
payload payloads body bodies
serverless lambda lambdas function
cold-start startup boot
hook hooks husky pre-commit
java jdk jvm
cap maximum max limit
pagination paginate page pages cursor offset
rerun re-run retry
trace traces tracing span spans sampling
spreadsheet spreadsheets csv excel
approve approval approvals sign-off signoff
manager lead head director
designer designers design figma
stale outdated old cached
`;

/** stem → the other words of its groups. */
const TABLE: Map<string, string[]> = (() => {
  const table = new Map<string, Set<string>>();
  for (const line of GROUPS.split('\n')) {
    const words = line.trim().split(/\s+/).filter(Boolean);
    for (const w of words) {
      const key = stem(w.replace(/-/g, ''));
      const set = table.get(key) ?? new Set<string>();
      for (const other of words) if (other !== w) set.add(other);
      table.set(key, set);
    }
  }
  return new Map([...table].map(([k, v]) => [k, [...v]]));
})();

/** The synonyms of a word (matched by stem), hyphenated ones as their parts. */
export function synonymsOf(word: string): string[] {
  return (TABLE.get(stem(word)) ?? []).flatMap((w) => w.split('-'));
}
