// Baseline for the script benchmark: the same login script under Node.js `vm`
// (hot call in one context, and a fresh context + compile + call), like Auth0's containers.
const vm = require('vm');
const n = Number(process.argv[2] || 20000);
const LOGIN = `function login(email, password, callback) {
  if (email !== 'alice@example.com' || password !== 'secret') {
    return callback(new WrongUsernameOrPasswordError(email, 'Wrong email or password.'));
  }
  callback(null, { user_id: 'legacy|1', email: email, nickname: 'alice', email_verified: true,
                   app_metadata: { plan: 'gold' }, user_metadata: { lang: 'en' } });
}`;
const PRELUDE = 'class WrongUsernameOrPasswordError extends Error { constructor(u, m) { super(m); this.user_id = u; } }';
const pct = (a, p) => { a.sort((x, y) => x - y); return a[Math.round((a.length - 1) * p)]; };
const now = () => Number(process.hrtime.bigint()) / 1e3;
function fresh() {
  const ctx = vm.createContext({ configuration: Object.freeze({ API_KEY: 'k' }) });
  vm.runInContext(PRELUDE, ctx);
  return { ctx, fn: vm.runInContext('(' + LOGIN + ')', ctx) };
}
const { fn } = fresh();
const call = (f) => { let out; f('alice@example.com', 'secret', (e, p) => { out = JSON.stringify(p); }); return JSON.parse(out); };
for (let i = 0; i < 1000; i++) call(fn);
const hot = [];
for (let i = 0; i < n; i++) { const t = now(); call(fn); hot.push(now() - t); }
const cold = [];
for (let i = 0; i < 200; i++) { const t = now(); call(fresh().fn); cold.push(now() - t); }
console.log(JSON.stringify({ node_hot_p50_us: pct(hot, 0.5), node_fresh_context_p50_us: pct(cold, 0.5), node_version: process.version }));
