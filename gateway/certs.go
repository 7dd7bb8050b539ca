package gateway

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves the certificate from CertFile/KeyFile and loads it
// again when either file's modification time or size changes (looked at
// no more often than every check), so a renewed certificate is used
// without a restart. A file that fails to load keeps the previous one.
type certReloader struct {
	certFile, keyFile string
	check             time.Duration
	now               func() time.Time
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string
	checked time.Time
}

func newCertReloader(certFile, keyFile string, check time.Duration, now func() time.Time, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, check: check, now: now, log: log}
	if err := r.load(); err != nil {
		return nil, err
	}
	r.checked = now()
	return r, nil
}

// fileStamp identifies the current versions of both files.
func (r *certReloader) fileStamp() (string, error) {
	var s string
	for _, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%d/%d;", fi.ModTime().UnixNano(), fi.Size())
	}
	return s, nil
}

// load reads both files; r.mu must be held or r not yet shared.
func (r *certReloader) load() error {
	stamp, err := r.fileStamp()
	if err != nil {
		return fmt.Errorf("gateway certificate: %w", err)
	}
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("gateway certificate %s / %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &c, stamp
	return nil
}

// get is tls.Config.GetCertificate.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) >= r.check {
		r.checked = now
		if stamp, err := r.fileStamp(); err == nil && stamp != r.stamp {
			if err := r.load(); err != nil {
				r.log.Error("gateway: new certificate files do not load; keeping the previous certificate", "err", err)
			} else {
				r.log.Info("gateway: certificate reloaded", "file", r.certFile)
			}
		}
	}
	return r.cert, nil
}
