package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// tmpfsEnv asks the test binary, run as energylabeld, to mount a tmpfs
// first: "DIR SIZE", in a mount namespace of its own.
const tmpfsEnv = "ENERGYLABELD_TEST_TMPFS"

func mountTmpfs(spec string) error {
	dir, size, _ := strings.Cut(spec, " ")
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return err
	}
	return syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size)
}

// TestAFullDiskIsStorageFull runs energylabeld on a real file system of
// 2 MB, a tmpfs in a user and mount namespace of its own, and fills it.
func TestAFullDiskIsStorageFull(t *testing.T) {
	dir := t.TempDir()
	addrs := freeAddrs(t, 2)
	logs := &syncBuffer{}
	cmd := exec.Command(os.Args[0], "-data", dir, "-grpc", addrs[0], "-http", addrs[1])
	cmd.Env = append(os.Environ(), "ENERGYLABELD_TEST_MAIN=1", "ENERGYLABEL_ADMIN_TOKEN="+crashAdminToken, tmpfsEnv+"="+dir+" 2m")
	cmd.Stderr = logs
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot make a user and mount namespace for a small file system here: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	conn, err := grpc.NewClient(addrs[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if !serving(conn) {
		if strings.Contains(logs.String(), "mount tmpfs") {
			t.Skipf("cannot mount a tmpfs here: %s", logs)
		}
		t.Fatalf("energylabeld did not start:\n%s", logs)
	}
	rs := energylabelv1.NewRatingServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+crashAdminToken)
	var full error
	for i := range 2000 {
		r := &energylabelv1.BenchmarkResult{
			Model: fmt.Sprintf("full/m%d", i), Task: "text-classification", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
			Queries: 1000, GpuEnergyWh: 1, RunEnergiesWh: make([]float64, 500),
		}
		for j := range r.RunEnergiesWh {
			r.RunEnergiesWh[j] = 1
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := rs.SubmitResult(cctx, &energylabelv1.SubmitResultRequest{Result: r})
		cancel()
		if err != nil {
			full = err
			break
		}
	}
	st := status.Convert(full)
	if st.Code() != codes.ResourceExhausted || !strings.HasPrefix(st.Message(), "storage full") {
		t.Fatalf("filling a 2 MB disk: %v, want ResourceExhausted \"storage full\"", full)
	}
	if strings.Contains(st.Message(), dir) || strings.Contains(st.Message(), filepath.Base(dir)) || strings.Contains(st.Message(), "energylabel.db") {
		t.Errorf("message %q names a server path", st.Message())
	}
	if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "full/m0"}); err != nil {
		t.Errorf("GetRating on a full disk: %v", err)
	}
	if !strings.Contains(logs.String(), "no space left on device") {
		t.Errorf("the server's log does not say the disk is full:\n%s", logs)
	}
}
