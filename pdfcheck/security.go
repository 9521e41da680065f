package pdfcheck

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Whether a file "needs a password" is poppler's decision, not pdfcpu's. pdfcpu refuses files that poppler
// opens (a /P beyond 32 bits, crypt filter lengths in bytes, /Identity filters, files where only embedded
// files are encrypted) and ignores an /Encrypt dictionary written directly into the trailer. So we take
// the encryption dictionary from the trailer poppler reads and judge it as poppler's standard security
// handler (poppler/SecurityHandler.cc, Decrypt.cc) does, with the empty password, which is what a viewer
// tries before it asks for one:
//
//   - /Encrypt that is not a dictionary: not encrypted.
//   - a /Filter other than /Standard, or none: the viewer cannot open it (it asks for a password).
//   - a standard dictionary poppler cannot use (entries of the wrong type or size, a V/R pair it does not
//     support, /StmF and /StrF naming different filters under V 4): read as not encrypted.
//   - /StmF and /StrF both /Identity: not encrypted (an /EFOpen file only encrypts embedded files).
//   - otherwise the empty string is tried as owner and as user password (Algorithms 2, 3, 4, 5 and 7 of
//     ISO 32000-1 for R 2-4, 2.A with SHA-256 for R 5 and with Algorithm 2.B for R 6).

// secState is what a viewer makes of a file's encryption.
type secState int

const (
	secNone     secState = iota // no encryption dictionary: /Encrypt absent or not a dictionary
	secIgnored                  // an encryption dictionary poppler reads as no encryption
	secOpens                    // encrypted, and the empty password opens it
	secPassword                 // encrypted, and a password is needed
	secHandler                  // not the standard security handler: the viewer cannot open it either
)

func (s secState) String() string {
	return [...]string{"none", "ignored", "opens", "password", "handler"}[s]
}

// security is the judgement on one file's encryption.
type security struct {
	state  secState
	why    string // what decided it, for the warnings
	v, r   int    // the dictionary's V and R as poppler uses them (R 4 with V2/AESV2 filters counts as 3)
	keyLen int    // file key length in bytes, as poppler computes it
	owner  bool   // the empty password is the owner password
}

// lookup finds key in d, resolving an indirect reference with resolve (nil: references stay unresolved).
func lookup(d types.Dict, key string, resolve func(types.Object) types.Object) types.Object {
	o, ok := d.Find(key)
	if !ok {
		return nil
	}
	if _, isRef := o.(types.IndirectRef); isRef && resolve != nil {
		return resolve(o)
	}
	return o
}

func intOf(o types.Object) (int64, bool) {
	switch o := o.(type) {
	case types.Integer:
		return int64(o.Value()), true
	}
	return 0, false
}

func nameOf(o types.Object) (string, bool) {
	if n, ok := o.(types.Name); ok {
		return n.Value(), true
	}
	return "", false
}

// stringBytes returns the bytes of a literal or hex string object.
func stringBytes(o types.Object) ([]byte, bool) {
	switch s := o.(type) {
	case types.StringLiteral:
		b, err := types.Unescape(s.Value())
		return b, err == nil
	case types.HexLiteral:
		b, err := s.Bytes()
		return b, err == nil
	}
	return nil, false
}

// judgeEncryption decides, as poppler does, whether the empty password opens a file whose trailer's
// /Encrypt entry is enc (already resolved if it was a reference). id is the first element of the trailer's
// /ID, or nil.
func judgeEncryption(enc types.Object, id []byte, resolve func(types.Object) types.Object) security {
	d, ok := enc.(types.Dict)
	if !ok {
		return security{state: secNone, why: "/Encrypt is not a dictionary"}
	}
	filter, isName := nameOf(lookup(d, "Filter", resolve))
	switch {
	case !isName:
		return security{state: secHandler, why: "encryption dictionary without a /Filter"}
	case filter != "Standard":
		return security{state: secHandler, why: fmt.Sprintf("security handler /%s is not the standard one", filter)}
	}
	ignored := func(format string, a ...any) security {
		return security{state: secIgnored, why: fmt.Sprintf(format, a...)}
	}

	v, okV := intOf(lookup(d, "V", resolve))
	r, okR := intOf(lookup(d, "R", resolve))
	p, okP := intOf(lookup(d, "P", resolve))
	o, okO := stringBytes(lookup(d, "O", resolve))
	u, okU := stringBytes(lookup(d, "U", resolve))
	if !okV || !okR || !okP || !okO || !okU {
		return ignored("encryption dictionary: V, R, P, O or U missing or of the wrong type")
	}
	oe, okOE := stringBytes(lookup(d, "OE", resolve))
	ue, okUE := stringBytes(lookup(d, "UE", resolve))
	switch {
	case r <= 4 && len(o) > 0 && len(u) > 0:
	case (r == 5 || r == 6) && len(o) >= 48 && len(u) >= 48 && okOE && len(oe) == 32 && okUE && len(ue) == 32:
	default:
		return ignored("encryption dictionary: O, U, OE or UE of the wrong length for R %d", r)
	}
	keyLen := int64(5)
	if length, ok := intOf(lookup(d, "Length", resolve)); ok && r != 2 {
		keyLen = length / 8
	}
	encryptMetadata := true
	if (v == 4 || v == 5) && (r == 4 || r == 5 || r == 6) {
		cf, isDict := lookup(d, "CF", resolve).(types.Dict)
		stmF, ok1 := nameOf(lookup(d, "StmF", resolve))
		strF, ok2 := nameOf(lookup(d, "StrF", resolve))
		if isDict && ok1 && ok2 && stmF == strF {
			if stmF == "Identity" {
				return ignored("/StmF and /StrF are /Identity: streams and strings are not encrypted")
			}
			if f, ok := lookup(cf, stmF, resolve).(types.Dict); ok {
				cfm, _ := nameOf(lookup(f, "CFM", resolve))
				cfLen, hasLen := intOf(lookup(f, "Length", resolve))
				switch cfm {
				case "V2", "AESV2":
					v, r = 2, 3
				case "AESV3":
					v = 5
				}
				if hasLen && (cfm == "V2" || cfm == "AESV2" || cfm == "AESV3") {
					keyLen = cfLen // poppler reads the crypt filter's /Length as bytes
				}
			}
		}
		if b, ok := lookup(d, "EncryptMetadata", resolve).(types.Boolean); ok {
			encryptMetadata = b.Value()
		}
	}
	s := security{v: int(v), r: int(r)}
	switch {
	case v >= 1 && v <= 2 && r >= 2 && r <= 3:
		if keyLen > 16 || keyLen < 0 {
			keyLen = 16
		}
		s.keyLen = int(keyLen)
		if s.keyLen == 0 {
			// poppler computes with an empty RC4 key here, which is undefined; no viewer opens such a file.
			s.state, s.why = secPassword, "encryption key length 0"
			return s
		}
		o, u = pad32(o), pad32(u)
		s.owner = rc4OwnerOK(o, u, uint32(p), id, int(r), s.keyLen, encryptMetadata)
		if s.owner || rc4UserOK(nil, o, u, uint32(p), id, int(r), s.keyLen, encryptMetadata) {
			s.state, s.why = secOpens, fmt.Sprintf("V %d R %d: the empty password opens it", v, r)
		} else {
			s.state, s.why = secPassword, fmt.Sprintf("V %d R %d: the empty password does not open it", v, r)
		}
		return s
	case v == 5 && (r == 5 || r == 6):
		s.keyLen = 32
		s.owner = aes256OwnerOK(o, u, int(r))
		if s.owner || aes256UserOK(u, int(r)) {
			s.state, s.why = secOpens, fmt.Sprintf("V 5 R %d: the empty password opens it", r)
		} else {
			s.state, s.why = secPassword, fmt.Sprintf("V 5 R %d: the empty password does not open it", r)
		}
		return s
	}
	return ignored("unsupported version/revision %d/%d of the standard security handler", v, r)
}

// passwordPad is the padding string of Algorithm 2 step a.
var passwordPad = []byte{
	0x28, 0xbf, 0x4e, 0x5e, 0x4e, 0x75, 0x8a, 0x41, 0x64, 0x00, 0x4e, 0x56, 0xff, 0xfa, 0x01, 0x08,
	0x2e, 0x2e, 0x00, 0xb6, 0xd0, 0x68, 0x3e, 0x80, 0x2f, 0x0c, 0xa9, 0xfe, 0x64, 0x53, 0x69, 0x7a,
}

// pad32 zero-pads a short O or U value to 32 bytes (Adobe writes them short) and cuts a long one.
func pad32(b []byte) []byte {
	out := make([]byte, 32)
	copy(out, b)
	return out
}

// padPassword is Algorithm 2 step a: the password padded or cut to 32 bytes.
func padPassword(pw []byte) []byte {
	out := make([]byte, 0, 32)
	out = append(out, pw[:min(len(pw), 32)]...)
	return append(out, passwordPad[:32-len(out)]...)
}

func rc4Apply(key, data []byte) []byte {
	c, err := rc4.NewCipher(key)
	if err != nil {
		return nil
	}
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

// rc4Undo20 undoes the 20 RC4 passes of Algorithms 3 and 5 (R 3 and 4): keys key XOR 19 down to 0.
func rc4Undo20(key, data []byte) []byte {
	out := append([]byte(nil), data...)
	tmp := make([]byte, len(key))
	for i := 19; i >= 0; i-- {
		for j := range tmp {
			tmp[j] = key[j] ^ byte(i)
		}
		out = rc4Apply(tmp, out)
	}
	return out
}

// rc4FileKey is Algorithm 2: the file key for a user password (R 2 and 3; R 4 is computed as 3).
func rc4FileKey(pw, o []byte, p uint32, id []byte, r, keyLen int, encryptMetadata bool) []byte {
	h := md5.New()
	h.Write(padPassword(pw))
	h.Write(o[:32])
	h.Write([]byte{byte(p), byte(p >> 8), byte(p >> 16), byte(p >> 24)})
	h.Write(id)
	if !encryptMetadata {
		h.Write([]byte{0xff, 0xff, 0xff, 0xff})
	}
	key := h.Sum(nil)
	if r == 3 {
		for range 50 {
			sum := md5.Sum(key[:keyLen])
			key = sum[:]
		}
	}
	return key[:keyLen]
}

// rc4UserOK is Algorithms 4 and 5: does pw open the file as user password?
func rc4UserOK(pw, o, u []byte, p uint32, id []byte, r, keyLen int, encryptMetadata bool) bool {
	key := rc4FileKey(pw, o, p, id, r, keyLen, encryptMetadata)
	if r == 2 {
		return bytes.Equal(rc4Apply(key, u[:32]), passwordPad)
	}
	test := rc4Undo20(key, u[:32])
	h := md5.New()
	h.Write(passwordPad)
	h.Write(id)
	return len(test) == 32 && bytes.Equal(test[:16], h.Sum(nil))
}

// rc4OwnerOK is Algorithm 7: does the empty password open the file as owner password? It recovers the
// user password from O and checks that.
func rc4OwnerOK(o, u []byte, p uint32, id []byte, r, keyLen int, encryptMetadata bool) bool {
	sum := md5.Sum(padPassword(nil))
	key := sum[:]
	if r == 3 {
		for range 50 {
			s := md5.Sum(key[:keyLen])
			key = s[:]
		}
	}
	var userPW []byte
	if r == 2 {
		userPW = rc4Apply(key[:keyLen], o[:32])
	} else {
		userPW = rc4Undo20(key[:keyLen], o[:32])
	}
	return len(userPW) == 32 && rc4UserOK(userPW, o, u, p, id, r, keyLen, encryptMetadata)
}

// aes256UserOK is Algorithm 2.A (steps e, f) for the empty user password: the hash of the password and
// U's validation salt must equal U's first 32 bytes.
func aes256UserOK(u []byte, r int) bool {
	return bytes.Equal(hash2B(nil, u[32:40], nil, r), u[:32])
}

// aes256OwnerOK is Algorithm 2.A (steps c, d) for the empty owner password.
func aes256OwnerOK(o, u []byte, r int) bool {
	return bytes.Equal(hash2B(nil, o[32:40], u[:48], r), o[:32])
}

// hash2B is the hash of a password with a salt (and, for the owner password, the 48 bytes of U): SHA-256
// for R 5, Algorithm 2.B for R 6.
func hash2B(pw, salt, udata []byte, r int) []byte {
	h := sha256.New()
	h.Write(pw)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	if r != 6 {
		return k
	}
	var e []byte
	for round := 0; round < 64 || int(e[len(e)-1]) > round-32; round++ {
		seq := make([]byte, 0, len(pw)+len(k)+len(udata))
		seq = append(append(append(seq, pw...), k...), udata...)
		k1 := bytes.Repeat(seq, 64)
		block, err := aes.NewCipher(k[:16])
		if err != nil {
			return nil
		}
		e = make([]byte, len(k1))
		cipher.NewCBCEncrypter(block, k[16:32]).CryptBlocks(e, k1)
		sum := 0 // the first 16 bytes as a big-endian number, modulo 3: 256 is 1 modulo 3
		for _, c := range e[:16] {
			sum += int(c)
		}
		switch sum % 3 {
		case 0:
			s := sha256.Sum256(e)
			k = s[:]
		case 1:
			s := sha512.Sum384(e)
			k = s[:]
		default:
			s := sha512.Sum512(e)
			k = s[:]
		}
	}
	return k[:32]
}
