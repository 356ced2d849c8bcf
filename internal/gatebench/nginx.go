package gatebench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ladder is an HLS stream on disk, and the segment the measurements request.
type ladder struct {
	rendition, segment string // the segment: {rendition}/{segment}
	segmentBytes       int
}

// segmentTarget is the size of the segment the comparison requests: the figures
// are for an 83 KiB segment, a 2-second segment at about 340 kbit/s.
const segmentTarget = 83 << 10

// makeLadder writes a 12-second, three-rendition HLS stream (720p, 480p, 360p) with
// 2-second segments into dir, and picks the segment closest to segmentTarget.
func makeLadder(ctx context.Context, ffmpeg, dir string) (*ladder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc=size=1280x720:rate=15:duration=12",
		"-filter_complex", "[0:v]split=3[a][b][c];[b]scale=854:480[b2];[c]scale=640:360[c2]",
		"-map", "[a]", "-map", "[b2]", "-map", "[c2]",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-profile:v", "baseline",
		"-g", "30", "-keyint_min", "30", "-sc_threshold", "0",
		"-b:v:0", "1200k", "-b:v:1", "600k", "-b:v:2", "340k",
		"-maxrate:v:2", "340k", "-bufsize:v:2", "680k",
		"-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
		"-hls_segment_filename", "%v/seg%03d.ts", "-master_pl_name", "index.m3u8",
		"-var_stream_map", "v:0,name:720p v:1,name:480p v:2,name:360p", "%v/index.m3u8")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %v\n%s", err, out)
	}
	segs, err := filepath.Glob(filepath.Join(dir, "*", "seg*.ts"))
	if err != nil || len(segs) == 0 {
		return nil, fmt.Errorf("ffmpeg wrote no segment in %s", dir)
	}
	best, bestSize := "", math.MaxInt
	for _, s := range segs {
		fi, err := os.Stat(s)
		if err != nil {
			return nil, err
		}
		if best == "" || abs(int(fi.Size())-segmentTarget) < abs(bestSize-segmentTarget) {
			best, bestSize = s, int(fi.Size())
		}
	}
	return &ladder{rendition: filepath.Base(filepath.Dir(best)), segment: filepath.Base(best), segmentBytes: bestSize}, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// nginx is an nginx running as the origin (serving the ladder) and, on a second port, as
// the reference proxy in front of that origin.
type nginx struct {
	cmd           *exec.Cmd
	done          chan struct{}
	out           bytes.Buffer
	origin, proxy string // base URLs
	version       string
	prefix        string
}

const nginxConf = `%s
worker_processes auto;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
    }

    # The origin: the ladder's files.
    server {
        listen 127.0.0.1:%[3]d;
        root %[5]s;
        location /live/ {
        }
    }

    upstream origin {
        server 127.0.0.1:%[3]d;
        keepalive 64;
        keepalive_requests 1000000;
    }

    # The reference proxy: the same origin through proxy_pass, and the cheapest answer
    # an auth_request endpoint could give.
    server {
        listen 127.0.0.1:%[4]d;
        location /live/ {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location = /ok {
            return 200;
        }
    }
}
`

// startNginx runs nginx with its files under prefix, serving root as the origin.
func startNginx(ctx context.Context, bin, prefix, root string) (*nginx, error) {
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o700); err != nil {
			return nil, err
		}
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers read the run's private temporary files
	}
	conf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, user, prefix, ports[0], ports[1], root), 0o600); err != nil {
		return nil, err
	}
	n := &nginx{
		origin: "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		proxy:  "http://127.0.0.1:" + strconv.Itoa(ports[1]),
		prefix: prefix,
		done:   make(chan struct{}),
	}
	if v, err := exec.CommandContext(ctx, bin, "-v").CombinedOutput(); err == nil {
		n.version = strings.TrimPrefix(strings.TrimSpace(string(v)), "nginx version: ")
	}
	if n.version == "" {
		n.version = "nginx"
	}
	n.cmd = exec.Command(bin, "-p", prefix, "-c", conf, "-e", filepath.Join(prefix, "error.log"), "-g", "daemon off;")
	n.cmd.Stdout, n.cmd.Stderr = &n.out, &n.out
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { n.cmd.Wait(); close(n.done) }()
	deadline := time.Now().Add(30 * time.Second) // a hang guard
	for _, p := range ports {
		for {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-n.done:
				return nil, fmt.Errorf("nginx ended: %s%s", n.out.String(), n.errorLog())
			case <-ctx.Done():
				n.stop()
				return nil, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				n.stop()
				return nil, fmt.Errorf("nginx does not listen on port %d: %s", p, n.errorLog())
			}
		}
	}
	return n, nil
}

func (n *nginx) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.prefix, "error.log"))
	return string(b)
}

// stop ends nginx: a fast shutdown, then a kill if it has not ended 10 s later.
func (n *nginx) stop() {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
}

// freePorts returns n ports of 127.0.0.1 that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// opensslVerifies runs openssl speed's ECDSA P-384 test in procs processes for d, and
// returns the verifications per second of all of them together.
func opensslVerifies(ctx context.Context, bin string, d time.Duration, procs int) (float64, error) {
	out, err := exec.CommandContext(ctx, bin, "speed", "-seconds", strconv.Itoa(int(d/time.Second)), "-multi", strconv.Itoa(procs), "ecdsap384").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("openssl speed: %v\n%s", err, out)
	}
	// " 384 bits ecdsa (nistp384)   0.0005s   0.0003s   2118.6   3237.0": the last is verify/s.
	for l := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(l)
		if strings.Contains(l, "(nistp384)") && len(f) >= 4 {
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err == nil && v > 0 {
				return v, nil
			}
		}
	}
	return 0, errors.New("openssl speed printed no nistp384 verify/s:\n" + string(out))
}
