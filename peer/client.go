package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// maxAnswer bounds the body of a peer's answer.
const maxAnswer = 64 << 10

// ErrYield is returned by Set.Refresh when the owner is itself waiting
// for this instance's answer about the same token (the two saw different
// live peers for a moment): of two such instances the one with the
// smaller id yields (409), and the other refreshes for both.
var ErrYield = errors.New("peer: the owner is waiting for this instance")

// Answer is an owner's answer to a relayed refresh: the new tokens sealed
// for the asking client as a successor record is (package session seals
// and opens it), or why the refresh failed.
type Answer struct {
	Sealed []byte `json:"sealed,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// refreshRequest is the body of POST RefreshPath.
type refreshRequest struct {
	From       string `json:"from"`       // the asking instance's id
	Credential string `json:"credential"` // the token to refresh
	Client     string `json:"client"`     // the client binding of the asking request
}

// Refresh asks the owner of key (the SHA-256 of cred, in hex) among the
// live peers to refresh cred for client, and returns its answer. asked is
// false when there is nobody to ask: this instance owns the token, or no
// peer is live; the caller refreshes. An error (unreachable, ctx ended,
// ErrYield, a bad answer) means the owner did not answer: the caller
// refreshes too. An owner that stops answering pings meanwhile is still
// waited for, until ctx ends: it may only be slow (see settle). Neither the
// token nor the client is ever in an error.
func (s *Set) Refresh(ctx context.Context, key, cred, client string) (a Answer, asked bool, err error) {
	to, self, ok := s.Owner(key)
	if !ok || self {
		return Answer{}, false, nil
	}
	body, err := json.Marshal(refreshRequest{From: s.id, Credential: cred, Client: client})
	if err != nil {
		return Answer{}, true, fmt.Errorf("peer: refresh: %w", err)
	}
	defer clear(body)
	defer s.track(to, key)()
	status, err := s.call(ctx, http.MethodPost, to, RefreshPath, body, &a)
	switch {
	case err != nil:
		return Answer{}, true, err
	case status == http.StatusConflict:
		return Answer{}, true, ErrYield
	case status != http.StatusOK:
		return Answer{}, true, fmt.Errorf("peer: refresh at %s: status %d", to, status)
	}
	s.answered(to)
	return a, true, nil
}

// call sends a signed request to the peer at base and decodes its signed
// answer into out (when the status is 200). Errors name the peer and the
// path, never the body.
func (s *Set) call(ctx context.Context, method, base, path string, body []byte, out any) (int, error) {
	r, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("peer: %s: %w", path, err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	nonce := s.sig.sign(r, body)
	res, err := s.client.Do(r)
	if err != nil {
		return 0, fmt.Errorf("peer: %s%s: %w", base, path, unwrapURL(err))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return 0, fmt.Errorf("peer: %s%s: reading the answer: %w", base, path, err)
	}
	if len(raw) > maxAnswer {
		return 0, fmt.Errorf("peer: %s%s: answer over %d bytes", base, path, maxAnswer)
	}
	if err := s.sig.verifyAnswer(res, nonce, raw); err != nil {
		return 0, fmt.Errorf("peer: %s%s: status %d: %w", base, path, res.StatusCode, err)
	}
	if res.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return 0, fmt.Errorf("peer: %s%s: bad answer: %w", base, path, err)
		}
	}
	return res.StatusCode, nil
}

// unwrapURL drops the *url.Error wrapper (method and URL, which the caller
// names already).
func unwrapURL(err error) error {
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err
	}
	return err
}
