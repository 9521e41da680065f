// Package mailmsg reads mail as real mailers write it: Foxmail's GBK names, 163's RFC 2231 filenames,
// Outlook's broken quoted-printable, a missing closing boundary, a header line without a colon. Parse
// streams one raw message, spools each attachment to its own file and says what it found (Message);
// whatever is broken is kept as far as it can be read and noted in Message.Problems, never a reason
// to lose the other parts.
//
// Where to find what:
//
//   - parse.go: Parse, Message and Attachment, the walk over parts and forwarded messages, header
//     blocks.
//   - spool.go: writing each attachment to its own file.
//   - multipart.go: splitting a multipart body at its boundaries.
//   - decode.go: the transfer decoders (base64, quoted-printable, uuencode).
//   - header.go: header text (DecodeHeader: encoded words, charsets, raw GBK).
//   - filename.go: parameters of Content-Type and Content-Disposition, and filenames.
//   - envelope.go: From, Subject, Date and the message ids.
//   - auth.go: the provider's Authentication-Results.
//   - text.go: the start of what the sender wrote (Message.Text).
//   - links.go: cloud-attachment links in the bodies.
//   - fingerprint.go: telling the same mail from another with the same Message-ID.
//   - classify.go: mail that must get no automatic reply (auto-replies, bulk, reports, our own).
package mailmsg
