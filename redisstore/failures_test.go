package redisstore_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

// TestFailuresEarlierVersionsReadNetwork: the record an earlier version
// reads ("fail:" + key, its reason only) says "network" until Retry, so an
// instance of that version waits for the backoff too and never takes the
// record for another reason; the backoff itself is under "failnet:".
func TestFailuresEarlierVersionsReadNetwork(t *testing.T) {
	r := testkit.StartRedis(t)
	clock := testkit.NewClock(time.Unix(1_800_000_000, 0))
	s := newStore(t, r, redisstore.Options{Now: clock.Now, KeyPrefix: "v:"})
	k := session.Key("token-a")
	retry := clock.Now().Add(4 * time.Second)
	if err := s.Failures().Fail(t.Context(), k, session.Failure{Reason: "network", Retry: retry, Backoff: 4 * time.Second},
		clock.Now().Add(34*time.Second)); err != nil {
		t.Fatal(err)
	}
	raw := dump(t, rawClient(t, r))
	rec := raw["v:fail:"+k]
	if len(rec) < 8 || rec[8:] != "network" {
		t.Fatalf("fail: record = %q, want the reason network", rec)
	}
	if until := time.Unix(0, int64(binary.BigEndian.Uint64([]byte(rec[:8])))); !until.Equal(retry) {
		t.Errorf("fail: record until %v, want Retry %v", until, retry)
	}
	if _, ok := raw["v:failnet:"+k]; !ok {
		t.Errorf("no failnet: record in %v", raw)
	}

	// An answer of the backend replaces both.
	if err := s.Failures().Fail(t.Context(), k, session.Failure{Reason: "expired"}, clock.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	raw = dump(t, rawClient(t, r))
	if rec := raw["v:fail:"+k]; len(rec) < 8 || rec[8:] != "expired" {
		t.Fatalf("fail: record = %q, want the reason expired", rec)
	}
	if _, ok := raw["v:failnet:"+k]; ok {
		t.Error("the failnet: record outlived an answer")
	}
}
