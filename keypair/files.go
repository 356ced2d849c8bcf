package keypair

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteKeyFiles writes k to privPath as a SEC1 "EC PRIVATE KEY" PEM (MarshalPrivateKeyPEM)
// with mode 0600 and, unless pubPath is empty, its public key to pubPath as a "PUBLIC KEY"
// PEM (MarshalPublicKeyPEM) with mode 0644 (both less any umask bits).
//
// It never overwrites anything: before writing either file it checks that neither path
// exists (a dangling symlink counts as existing), and it creates each with O_EXCL. If
// a path exists the error wraps fs.ErrExist and nothing is written. If writing the
// public key fails after the private key was written, the private key file is removed
// again, so a failure leaves no files behind.
func WriteKeyFiles(privPath, pubPath string, k *ecdsa.PrivateKey) error {
	privPEM, err := MarshalPrivateKeyPEM(k)
	if err != nil {
		return err
	}
	var pubPEM []byte
	if pubPath != "" {
		if pubPEM, err = MarshalPublicKeyPEM(&k.PublicKey); err != nil {
			return err
		}
		if filepath.Clean(pubPath) == filepath.Clean(privPath) {
			return fmt.Errorf("keypair: the private and public key paths are both %s", privPath)
		}
	}
	for _, p := range []string{privPath, pubPath} {
		if p == "" {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("keypair: refusing to overwrite %s: %w", p, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("keypair: %w", err)
		}
	}
	if err := writeNew(privPath, privPEM, 0o600); err != nil {
		return err
	}
	if pubPath != "" {
		if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
			os.Remove(privPath) // created above by O_EXCL, so it is ours to remove
			return err
		}
	}
	return nil
}

// writeNew creates path, which must not exist, and writes data to it durably. On failure
// it removes the file it created.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("keypair: refusing to overwrite %s: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("keypair: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("keypair: writing %s: %w", path, err)
	}
	return nil
}
