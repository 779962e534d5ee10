package etcdstore

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// PutToken creates or replaces a token.
func (s *Store) PutToken(ctx context.Context, t storage.Token) (int64, error) {
	v, err := proto.Marshal(tokenRecord(&t))
	if err != nil {
		return 0, err
	}
	if err := s.closed("token " + t.ID); err != nil {
		return 0, err
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	resp, err := s.cli.Put(ctx, s.key(dirTokens, t.ID), string(v))
	if err != nil {
		return 0, s.storageError(ctx, "token "+t.ID, err)
	}
	return resp.Header.Revision, nil
}

// AddAccelerator stores an accelerator variant an operator registered.
func (s *Store) AddAccelerator(ctx context.Context, a rating.Accelerator) (int64, error) {
	v, err := proto.Marshal(acceleratorRecord(&a))
	if err != nil {
		return 0, err
	}
	return s.putNew(ctx, "accelerator", dirAccelerators, a.Name, v)
}

// AddDataset stores a dataset an operator registered.
func (s *Store) AddDataset(ctx context.Context, ds rating.Dataset) (int64, error) {
	v, err := proto.Marshal(datasetRecord(&ds))
	if err != nil {
		return 0, err
	}
	return s.putNew(ctx, "dataset", dirDatasets, ds.Name, v)
}

// CreateRelease stores a release; its name must be new.
func (s *Store) CreateRelease(ctx context.Context, rel *rating.Release) (int64, error) {
	v, err := proto.Marshal(releaseRecord(rel))
	if err != nil {
		return 0, err
	}
	return s.putNew(ctx, "release", dirReleases, rel.Name, v)
}

// putNew stores v under dir/name unless the name is taken, whichever
// replica took it.
func (s *Store) putNew(ctx context.Context, what, dir, name string, v []byte) (int64, error) {
	if err := s.closed(fmt.Sprintf("%s %q", what, name)); err != nil {
		return 0, err
	}
	k := s.key(dir, name)
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, string(v))).Commit()
	if err != nil {
		return 0, s.storageError(ctx, fmt.Sprintf("%s %q", what, name), err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("%s %q: %w", what, name, storage.ErrExists)
	}
	return resp.Header.Revision, nil
}
