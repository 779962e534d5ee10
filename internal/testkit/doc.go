// Package testkit holds nothing itself: its subpackages are the kits that
// tests (and only tests) build on: servertest starts a real server on real
// sockets, etcdtest an embedded etcd cluster, aiesoracle recomputes the
// published AI Energy Score stars the grading must reproduce, and gpufacts
// synthesises GPU power traces from what NVML reported on our own GPUs.
package testkit
