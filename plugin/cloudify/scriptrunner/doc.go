// Package scriptrunner is the host side of Cloudify's script plugin: the
// ctx proxy server (shared/cloudify-compat.md section 2) and the way
// script_runner launches an operation's process (section 1.2, 1.3) and reads
// its outcome (1.2 step 6). The local runner (chaosops local) runs
// operations with it in production; without a manager it stands in for
// Cloudify's side in tests. It is not Cloudify: it holds a small context
// model (node, instance, operation, ids), records every call and log line,
// and is used by tests and by the local runner (chaosops local) so both run
// the real executable through the same path a manager uses.
package scriptrunner
