package mailmsg

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand"
	"testing"
)

// chunkReader returns the data in reads of pseudo-random sizes, so blocks, line breaks and padding
// fall across read boundaries.
type chunkReader struct {
	d   []byte
	rnd *rand.Rand
	max int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.d) == 0 {
		return 0, io.EOF
	}
	n := 1 + c.rnd.Intn(c.max)
	n = min(n, len(p), len(c.d))
	copy(p, c.d[:n])
	c.d = c.d[n:]
	return n, nil
}

func decodeB64(t *testing.T, in []byte, slowOnly bool, rnd *rand.Rand, max int) []byte {
	t.Helper()
	r := newBase64Reader(&chunkReader{d: bytes.Clone(in), rnd: rnd, max: max})
	r.slowOnly = slowOnly
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wrapLines(s string, n int, nl string) []byte {
	var b bytes.Buffer
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteString(nl)
		s = s[n:]
	}
	b.WriteString(s)
	b.WriteString(nl)
	return b.Bytes()
}

// TestBase64FastMatchesSlow checks that the encoding/base64 fast path decodes clean and broken
// input exactly as the lenient byte-at-a-time loop does.
func TestBase64FastMatchesSlow(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	var inputs [][]byte
	for _, size := range []int{0, 1, 2, 3, 4, 5, 56, 57, 58, 1000, 40 << 10, 200 << 10} {
		raw := make([]byte, size)
		rnd.Read(raw)
		enc := base64.StdEncoding.EncodeToString(raw)
		inputs = append(inputs,
			wrapLines(enc, 76, "\r\n"), wrapLines(enc, 76, "\n"), wrapLines(enc, 73, "\r\n"),
			[]byte(enc), wrapLines(base64.RawStdEncoding.EncodeToString(raw), 76, "\r\n"),
			wrapLines(base64.URLEncoding.EncodeToString(raw), 76, "\r\n"))
		if size > 0 {
			// concatenated chunks with padding in the middle
			inputs = append(inputs, wrapLines(enc+enc+base64.StdEncoding.EncodeToString(raw[:size/2+1]), 76, "\r\n"))
		}
	}
	// broken: stray bytes, spaces, tabs, lone CRs, NULs, high bytes, truncated lines
	for i := 0; i < 300; i++ {
		raw := make([]byte, rnd.Intn(30<<10))
		rnd.Read(raw)
		in := wrapLines(base64.StdEncoding.EncodeToString(raw), 60+rnd.Intn(20), "\r\n")
		for k := rnd.Intn(20); k > 0 && len(in) > 0; k-- {
			p := rnd.Intn(len(in))
			switch rnd.Intn(6) {
			case 0:
				in[p] = " \t\r\n=-_.*\x00\xff"[rnd.Intn(11)]
			case 1:
				in = append(in[:p], in[p+1:]...)
			case 2:
				in = append(in[:p], append([]byte("=="), in[p:]...)...)
			case 3:
				in[p] = byte(rnd.Intn(256))
			case 4:
				in = in[:p]
			case 5:
				in = append(in[:p], append([]byte("\r\r\r\r"), in[p:]...)...)
			}
		}
		inputs = append(inputs, in)
	}
	for i := 0; i < 100; i++ { // pure noise
		in := make([]byte, rnd.Intn(5000))
		rnd.Read(in)
		inputs = append(inputs, in)
	}
	for i, in := range inputs {
		want := decodeB64(t, in, true, rand.New(rand.NewSource(int64(i))), len(in)+1)
		for _, max := range []int{1, 7, 100, 4096, 1 << 20} {
			got := decodeB64(t, in, false, rand.New(rand.NewSource(int64(i))), max)
			if !bytes.Equal(got, want) {
				t.Fatalf("input %d (%d bytes), reads ≤ %d: fast path decodes %d bytes, slow path %d (differ)", i, len(in), max, len(got), len(want))
			}
		}
	}
}

// TestBase64CleanDecodes checks the fast path against encoding/base64 itself.
func TestBase64CleanDecodes(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	raw := make([]byte, 1<<20+7)
	rnd.Read(raw)
	in := wrapLines(base64.StdEncoding.EncodeToString(raw), 76, "\r\n")
	if got := decodeB64(t, in, false, rnd, 64<<10); !bytes.Equal(got, raw) {
		t.Fatal("fast path does not round-trip")
	}
}

func BenchmarkBase64(b *testing.B) {
	raw := make([]byte, 8<<20)
	rand.New(rand.NewSource(3)).Read(raw)
	in := wrapLines(base64.StdEncoding.EncodeToString(raw), 76, "\r\n")
	for _, slow := range []bool{false, true} {
		name := "fast"
		if slow {
			name = "slow"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				r := newBase64Reader(bytes.NewReader(in))
				r.slowOnly = slow
				io.Copy(io.Discard, r)
			}
		})
	}
}
