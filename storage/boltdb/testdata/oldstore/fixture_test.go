// This file writes the schema 1 and schema 2 fixtures of the bbolt
// backend's migration tests, through the store package of the commit
// that wrote that schema; it does not build here (testdata is outside
// the module's packages). testdata/README.md says how to run it.

package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
)

// fixtureResult is one stored result, as the migration test reads it
// back: the id Submit gave it, and what Submit was given.
type fixtureResult struct {
	ID     uint64
	Result rating.Result
	Audit  Audit
}

// fixtureToken is a stored token, its secret's hash included.
type fixtureToken struct {
	Token
	SecretSHA256 []byte
}

// TestWriteFixture writes the database file ENERGYLABEL_FIXTURE names,
// and beside it, with .json for .db, what it stored.
func TestWriteFixture(t *testing.T) {
	out := os.Getenv("ENERGYLABEL_FIXTURE")
	if out == "" {
		t.Skip("ENERGYLABEL_FIXTURE names the file to write")
	}
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	s, err := Open(dir, Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	var tokens []fixtureToken
	for _, tok := range []Token{
		{ID: "tok_fixture", Namespaces: []string{"acme"}, CreatedAt: at},
		{ID: "tok_gone", Namespaces: []string{"acme", "other"}, CreatedAt: at, ExpiresAt: at.AddDate(1, 0, 0)},
	} {
		sum := sha256.Sum256([]byte("secret of " + tok.ID))
		tok.hash = sum[:]
		if err := s.putToken(&tok); err != nil {
			t.Fatal(err)
		}
		s.auth.put(&tok)
	}
	if err := s.RevokeToken("tok_gone"); err != nil {
		t.Fatal(err)
	}

	clf := func(model string, wh float64, accelerator string) rating.Result {
		return rating.Result{Model: model, Task: "text-classification", Accelerator: accelerator, GPUCount: 1,
			Queries: 1000, GPUEnergyWh: wh, DurationSeconds: wh * 3600 / 150, ToolName: "optimum-benchmark", ToolVersion: "0.5.0",
			MeasuredAt: at.AddDate(0, 0, -7)}
	}
	gen := func(model string, wh float64, params float64) rating.Result {
		return rating.Result{Model: model, Task: "text-generation", Accelerator: "H100 SXM", GPUCount: 2,
			Queries: 1000, FailedQueries: 3, GPUEnergyWh: wh, DurationSeconds: wh * 3600 / 900,
			RunEnergiesWh: []float64{wh / 2, wh / 2}, Output: rating.Output{Tokens: 250000},
			ParamsBillions: params, Precision: "bf16", BatchSize: 8, ToolName: "ai_energy_benchmarks", ToolVersion: "1.2",
			MeasuredAt: at.AddDate(0, 0, -3), ThroughputTokensPerSecond: 62500 / wh} // 900 W at wh·3600/250,000 J a token
	}
	published := clf("org/pub-a", 0.9, "NVIDIA H100 80GB HBM3")
	published.DurationSeconds, published.ToolName, published.ToolVersion = 0, "", "" // a leaderboard row
	submissions := []fixtureResult{
		{Result: published, Audit: Audit{TokenID: "admin", ReceivedAt: at.Add(1 * time.Minute), ClientAddr: "127.0.0.1:50000"}},
		{Result: gen("org/pub-b", 40, 7), Audit: Audit{TokenID: "admin", ReceivedAt: at.Add(2 * time.Minute), ClientAddr: "127.0.0.1:50000"}},
		{Result: clf("acme/clf", 1.2, "H100"), Audit: Audit{TokenID: "tok_fixture", ReceivedAt: at.Add(3 * time.Minute),
			ClientAddr: "192.0.2.1:40001", PayloadSHA256: sha("payload 1")}},
		{Result: clf("acme/clf", 0.8, "H100"), Audit: Audit{TokenID: "tok_fixture", ReceivedAt: at.Add(4 * time.Minute),
			ClientAddr: "192.0.2.1:40002", PayloadSHA256: sha("payload 2")}},
		{Result: clf("acme/clf", 1.5, "A100 PCIe"), Audit: Audit{TokenID: "tok_fixture", ReceivedAt: at.Add(5 * time.Minute),
			ClientAddr: "192.0.2.1:40003", PayloadSHA256: sha("payload 3")}},
		{Result: gen("acme/gen", 60, 70), Audit: Audit{TokenID: "tok_fixture", ReceivedAt: at.Add(6 * time.Minute),
			ClientAddr: "[2001:db8::1]:40004", PayloadSHA256: sha("payload 4")}},
		{Result: gen("acme/gen", 55, 70), Audit: Audit{TokenID: "tok_fixture", ReceivedAt: at.Add(7 * time.Minute),
			ClientAddr: "[2001:db8::1]:40005", PayloadSHA256: sha("payload 5")}},
	}
	for i := range submissions {
		r := submissions[i].Result
		m, err := rating.Normalise(&r)
		if err != nil {
			t.Fatalf("%s: %v", r.Model, err)
		}
		e, err := s.Submit(ctx, &r, m, submissions[i].Audit)
		if err != nil {
			t.Fatal(err)
		}
		submissions[i].ID, submissions[i].Result = e.ID, r
	}
	for _, tok := range s.Tokens() {
		tokens = append(tokens, fixtureToken{Token: tok, SecretSHA256: s.auth.byID[tok.ID].hash})
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := json.MarshalIndent(struct {
		Schema  int
		Results []fixtureResult
		Tokens  []fixtureToken
	}{schemaVersion, submissions, tokens}, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, db, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out[:len(out)-len(filepath.Ext(out))]+".json", append(manifest, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sha is the hex SHA-256 of s: a payload hash.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
