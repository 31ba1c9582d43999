// Package standin is a stand-in for the Cloudify side of the script plugin:
// the ctx proxy server (shared/cloudify-compat.md section 2) and the way
// script_runner launches an operation's process (section 1.2, 1.3) and reads
// its outcome (1.2 step 6). It is not Cloudify: it holds a small context
// model (node, instance, operation, ids), records every call and log line,
// and is used by tests and by the local runner (chaosops local) so both run
// the real executable through the same path a manager uses.
package standin
