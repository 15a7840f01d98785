package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// successorInfo is the HKDF context of a successor record's key.
const successorInfo = "apilayer session successor v1"

// errSealed is returned for a record that is not for this credential and
// client (or is corrupt).
var errSealed = errors.New("session: successor record not readable")

// successorAEAD returns the AES-256-GCM of the records of credential cred:
// its key is HKDF-SHA256 of the credential, so only a holder of the old
// credential can read its successor.
func successorAEAD(cred string) (cipher.AEAD, error) {
	return credentialAEAD(cred, nil, successorInfo)
}

// credentialAEAD returns an AES-256-GCM whose key is HKDF-SHA256 of the
// credential with salt and info: only a holder of the credential can
// derive it.
func credentialAEAD(cred string, salt []byte, info string) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, []byte(cred), salt, info, 32)
	if err != nil {
		return nil, fmt.Errorf("session: record key: %w", err)
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("session: record key: %w", err)
	}
	return cipher.NewGCM(b)
}

// successorAD is the additional data of a record: its store key and the
// SHA-256 of the client that refreshed, so the record opens only for that
// client and only under that key. The client is never stored.
func successorAD(key, client string) []byte {
	sum := sha256.Sum256([]byte(client))
	ad := make([]byte, 0, len(key)+1+len(sum))
	ad = append(ad, key...)
	ad = append(ad, 0)
	return append(ad, sum[:]...)
}

// sealSuccessor encrypts t as the successor record of cred (store key key)
// for client: nonce || AES-GCM(len(access) || access || refresh).
func sealSuccessor(cred, key, client string, t Tokens) ([]byte, error) {
	aead, err := successorAEAD(cred)
	if err != nil {
		return nil, err
	}
	plain := binary.AppendUvarint(make([]byte, 0, 8+len(t.Access)+len(t.Refresh)), uint64(len(t.Access)))
	plain = append(plain, t.Access...)
	plain = append(plain, t.Refresh...)
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(out) // never fails (crypto/rand aborts the program instead)
	out = aead.Seal(out, out, plain, successorAD(key, client))
	clear(plain)
	return out, nil
}

// openSuccessor decrypts the successor record of cred for client. It fails
// with errSealed when the record was sealed for another credential or
// client.
func openSuccessor(cred, key, client string, sealed []byte) (Tokens, error) {
	aead, err := successorAEAD(cred)
	if err != nil {
		return Tokens{}, err
	}
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return Tokens{}, errSealed
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], successorAD(key, client))
	if err != nil {
		return Tokens{}, errSealed
	}
	l, w := binary.Uvarint(plain)
	if w <= 0 || l > uint64(len(plain)-w) {
		return Tokens{}, errSealed
	}
	rest := plain[w:]
	return Tokens{Access: string(rest[:l]), Refresh: string(rest[l:])}, nil
}
