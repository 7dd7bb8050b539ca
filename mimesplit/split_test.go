package mimesplit_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/apppass/apppass/mimesplit"
)

func wrap(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for i := 0; i < len(enc); i += 76 {
		sb.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	return sb.String()
}

func TestSplit(t *testing.T) {
	big := bytes.Repeat([]byte("%PDF big "), 4000)
	small := []byte("small attachment")
	head := "From: a@x.test\r\nTo: b@y.test\r\nSubject: scan\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n"
	body := "--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\nHi\r\n--b2\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n--b2--\r\n"
	bigPart := "\r\n--b1\r\nContent-Type: application/pdf; name=\"=?utf-8?q?B=C3=BCro.pdf?=\"\r\nContent-Disposition: attachment; filename*=utf-8''B%C3%BCro.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + strings.TrimSuffix(wrap(big), "\r\n")
	smallPart := "\r\n--b1\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nsmall attachment"
	msg := []byte(head + strings.TrimSuffix(body, "\r\n") + bigPart + smallPart + "\r\n--b1--\r\nepilogue\r\n")

	tests := []struct {
		name     string
		limit    int
		wantRest string
		wantAtts []string
		wantErr  error
	}{
		{"fits as is", len(msg), string(msg), nil, nil},
		{"largest goes first", len(msg) - 1, head + strings.TrimSuffix(body, "\r\n") + smallPart + "\r\n--b1--\r\nepilogue\r\n", []string{"Büro.pdf"}, nil},
		{"both go", len(head) + len(body) + 30, head + strings.TrimSuffix(body, "\r\n") + "\r\n--b1--\r\nepilogue\r\n", []string{"Büro.pdf", "attachment"}, nil},
		{"too large", 10, "", nil, mimesplit.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rest, atts, err := mimesplit.Split(msg, func(n int) bool { return n <= tt.limit })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if string(rest) != tt.wantRest {
				t.Errorf("rest =\n%q\nwant\n%q", rest, tt.wantRest)
			}
			var names []string
			for _, a := range atts {
				names = append(names, a.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.wantAtts, ",") {
				t.Errorf("attachments %v, want %v", names, tt.wantAtts)
			}
			for _, a := range atts {
				switch a.Name {
				case "Büro.pdf":
					if !bytes.Equal(a.Data, big) || a.ContentType != "application/pdf" {
						t.Errorf("pdf: %d bytes %s", len(a.Data), a.ContentType)
					}
				case "attachment":
					if !bytes.Equal(a.Data, small) || !a.Inline || a.ContentID != "img1@x" {
						t.Errorf("inline image: %+v", a)
					}
				}
			}
		})
	}
}
