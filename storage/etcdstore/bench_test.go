package etcdstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/storage"
	etcdstore "github.com/energylabel/energylabel/storage/etcdstore"
	"github.com/energylabel/energylabel/storage/internal/records"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// The durable-write benchmarks: a submission's Append against a raw etcd
// transaction put of a value as large, from 32 goroutines on one client,
// as one replica takes submissions. With ENERGYLABEL_TEST_ETCD naming a
// real cluster (scripts/bench.sh starts three members), they measure it;
// the embedded member of TestMain does not fsync.
const clients = 32

func benchPrefix(b *testing.B) string {
	return fmt.Sprintf("/bench/%x/%s/", time.Now().UnixNano(), b.Name())
}

// BenchmarkAppendDurable is a submission's write: an Append of one, with
// its token's last use, from 32 goroutines.
func BenchmarkAppendDurable(b *testing.B) {
	s, err := etcdstore.Open(context.Background(), etcdstore.Options{Endpoints: []string{endpoint}, Prefix: benchPrefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tok := storage.Token{ID: "tok_0123456789ab", Namespaces: []string{"*"}}
	if _, err := s.PutToken(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	pool := storagetest.Synthetic(b, 4096)
	run := time.Now().UnixNano()
	storagetest.InParallel(b, clients, func(i int) error {
		it := pool[i%len(pool)]
		it.Audit.Fingerprint = fmt.Sprintf("%032x%032x", run, i)
		_, _, err := s.Append(context.Background(), []storage.Accepted{it})
		return err
	})
}

// BenchmarkRawTxnPutBaseline is the floor of a durable write on etcd: one
// transaction putting one key, with a value as large as the records
// BenchmarkAppendDurable stores, from 32 goroutines on one client.
func BenchmarkRawTxnPutBaseline(b *testing.B) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	size := 0
	pool := storagetest.Synthetic(b, 4096)
	for i := range pool {
		v, _ := proto.Marshal(records.Result(&pool[i]))
		size += len(v)
	}
	val := string(make([]byte, size/len(pool)))
	defer b.ReportMetric(float64(len(val)), "value-bytes")
	prefix := benchPrefix(b)
	storagetest.InParallel(b, clients, func(i int) error {
		_, err := cli.Txn(context.Background()).Then(clientv3.OpPut(fmt.Sprintf("%s%016x", prefix, i), val)).Commit()
		return err
	})
}

// BenchmarkHistory is History on a model of 20,000 results, filtered and
// not (see storagetest.BenchHistory), stored MaxBatch results at a time.
func BenchmarkHistory(b *testing.B) {
	s, err := etcdstore.Open(context.Background(), etcdstore.Options{Endpoints: []string{endpoint}, Prefix: benchPrefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storagetest.BenchHistory(b, s, s.MaxBatch())
}
