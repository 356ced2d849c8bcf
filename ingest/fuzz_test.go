package ingest

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// byteConn is a connection that reads data and then EOF, and swallows what is written.
type byteConn struct{ r *bytes.Reader }

func (c byteConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c byteConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c byteConn) Close() error                     { return nil }
func (c byteConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1935} }
func (c byteConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000} }
func (c byteConn) SetDeadline(time.Time) error      { return nil }
func (c byteConn) SetReadDeadline(time.Time) error  { return nil }
func (c byteConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzRTMP feeds arbitrary bytes to a publisher connection, from the handshake on: it
// must end without a panic and leave no channel claimed.
func FuzzRTMP(f *testing.F) {
	handshake := append([]byte{3}, make([]byte, 1536*2)...)
	f.Add([]byte{})
	f.Add([]byte{3})
	f.Add(handshake)
	f.Add(append(append([]byte{}, handshake...), 0x03, 0, 0, 0, 0, 0, 0x20, 0x14, 0, 0, 0, 0, 0x02, 0, 7, 'c', 'o', 'n', 'n', 'e', 'c', 't'))
	f.Add(bytes.Repeat([]byte{0xff}, 5000))
	s, err := New(Config{Authority: newFakeAuthority()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s.handleRTMP(byteConn{bytes.NewReader(data)}, "rtmp")
		s.mu.Lock()
		n := len(s.live)
		s.mu.Unlock()
		if n != 0 {
			t.Fatalf("%d channels still claimed after the connection ended", n)
		}
	})
}

var _ io.Reader = byteConn{}
