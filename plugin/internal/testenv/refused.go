package testenv

// RefusedKubeconfig points at a port where nothing listens: a command or
// operation that gets as far as connecting fails with "connection
// refused", which names no input. Tests of the checks before connecting
// use it; it needs no control plane.
const RefusedKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: not-used-123456}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
