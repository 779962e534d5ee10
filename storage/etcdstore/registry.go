package etcdstore

import (
	"bytes"
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// PutToken creates or replaces a token.
func (s *Store) PutToken(ctx context.Context, t storage.Token) (int64, error) {
	v, err := proto.Marshal(records.Token(&t))
	if err != nil {
		return 0, err
	}
	if err := s.closed("token " + t.ID); err != nil {
		return 0, err
	}
	var rev int64
	err = s.do(ctx, "token "+t.ID, func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.Put(ctx, s.key(dirTokens, t.ID), string(v))
		if err == nil {
			rev = resp.Header.Revision
		}
		return err
	})
	return rev, err
}

// AddAccelerator stores an accelerator variant an operator registered.
func (s *Store) AddAccelerator(ctx context.Context, a rating.Accelerator) (int64, error) {
	v, err := proto.Marshal(records.Accelerator(&a))
	if err != nil {
		return 0, err
	}
	return s.putNew(ctx, "accelerator", dirAccelerators, a.Name, v)
}

// AddDataset stores a dataset an operator registered.
func (s *Store) AddDataset(ctx context.Context, ds rating.Dataset) (int64, error) {
	v, err := proto.Marshal(records.Dataset(&ds))
	if err != nil {
		return 0, err
	}
	return s.putNew(ctx, "dataset", dirDatasets, ds.Name, v)
}

// CreateRelease stores a release; its name must be new.
func (s *Store) CreateRelease(ctx context.Context, rel *rating.Release) (int64, error) {
	v, err := proto.Marshal(records.Release(rel))
	if err != nil {
		return 0, err
	}
	return s.putNew(ctx, "release", dirReleases, rel.Name, v)
}

// putNew stores v under dir/name unless the name is taken, whichever
// replica took it. A try whose answer was lost may have taken it: then
// the value there is v.
func (s *Store) putNew(ctx context.Context, what, dir, name string, v []byte) (int64, error) {
	op := fmt.Sprintf("%s %q", what, name)
	if err := s.closed(op); err != nil {
		return 0, err
	}
	k := s.key(dir, name)
	var rev int64
	tries := 0
	err := s.do(ctx, op, func(ctx context.Context, cli *clientv3.Client) error {
		tries++
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
			Then(clientv3.OpPut(k, string(v))).
			Else(clientv3.OpGet(k)).Commit()
		switch {
		case err != nil:
			return err
		case resp.Succeeded:
			rev = resp.Header.Revision
		default:
			if kvs := resp.Responses[0].GetResponseRange().GetKvs(); tries > 1 && len(kvs) == 1 && bytes.Equal(kvs[0].Value, v) {
				rev = kvs[0].ModRevision
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if rev == 0 {
		return 0, fmt.Errorf("%s: %w", op, storage.ErrExists)
	}
	return rev, nil
}

// AddVerification stores a surveyor's measurement under its name, which
// another measurement of the same state has taken if it was first.
func (s *Store) AddVerification(ctx context.Context, v *storage.Verification) (int64, error) {
	b, err := proto.Marshal(records.Verification(v))
	if err != nil {
		return 0, err
	}
	return s.putNew(ctx, "verification", dirVerifications, storage.VerificationName(v), b)
}
