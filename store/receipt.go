package store

import "time"

// Receipt verdicts: the outcome recorded for every message.
const (
	VerdictAccepted     = "accepted"      // every attachment is a PDF that opens
	VerdictPartial      = "partial"       // some attachments are usable PDFs, some are not
	VerdictRejected     = "rejected"      // attachments, but no usable PDF
	VerdictNoAttachment = "no_attachment" // no attachment (perhaps a cloud-attachment link)
	VerdictTooLarge     = "too_large"     // over the size limit, not downloaded
	VerdictMalformed    = "malformed"     // could not be parsed; the raw copy is kept
	VerdictIgnored      = "ignored"       // auto-reply, bounce, list mail, our own mail: no reply
	VerdictFailed       = "failed"        // could not be handled after several attempts; raw copy kept, office told
)

// Why a mail is not a submission (Receipt.Category of a receipt with verdict ignored).
const (
	CategoryQuestion = "question" // a unit's mail that is no submission: a person answers it
	CategoryStranger = "stranger" // an unknown sender, no attachment, no link
	CategoryBulk     = "bulk"     // mailing lists, newsletters
	CategoryAuto     = "auto"     // auto-replies, bounces, our own mail
)

// Reply states of a receipt.
const (
	ReplyQueued     = "queued"
	ReplySent       = "sent"
	ReplyFailed     = "failed"
	ReplySuppressed = "suppressed"
)

// Receipt is the record of one received message. Its JSON form is the contract of `briefd receipts -json`.
type Receipt struct {
	Number      string       `json:"receipt"`
	Received    time.Time    `json:"received"` // when the server received it (INTERNALDATE), office time zone
	MessageID   string       `json:"message_id"`
	From        string       `json:"from"`
	FromName    string       `json:"from_name,omitempty"`
	Subject     string       `json:"subject"`
	Date        time.Time    `json:"date,omitzero"` // the Date header, as the sender claims
	Unit        string       `json:"unit"`
	Match       string       `json:"match"` // address | name | manual | none
	Campaign    string       `json:"campaign"`
	Period      string       `json:"period"`
	Late        bool         `json:"late"`
	Verdict     string       `json:"verdict"`
	Attachments []Attachment `json:"attachments"`
	Links       []string     `json:"links"`
	Reply       string       `json:"reply"` // queued | sent | failed | suppressed
	ReplyNote   string       `json:"reply_note"`

	Note        string `json:"note,omitempty"`        // why ignored or malformed, in English
	Auth        string `json:"auth,omitempty"`        // sender authentication seen by the receiving server: pass | fail | none
	Size        int64  `json:"size,omitempty"`        // RFC822.SIZE
	Mailbox     string `json:"mailbox,omitempty"`     // where it was read
	UIDValidity uint32 `json:"uidvalidity,omitempty"` //
	UID         uint32 `json:"uid,omitempty"`         //
	Raw         string `json:"raw,omitempty"`         // raw message in the archive, relative path
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// Fingerprint is the SHA-256 of the mail as its sender wrote it (without the servers' trace
	// fields): the same mail found again is not recorded twice; a different one that reuses the
	// Message-ID is. Empty for receipts recorded before schema 2.
	Fingerprint string `json:"fingerprint,omitempty"`
	// SharesMessageID is the receipt of another, different mail with the same Message-ID.
	SharesMessageID string `json:"shares_message_id,omitempty"`
	// Category says why a mail is not a submission (verdict ignored): question (a unit's mail a person
	// answers), stranger (no attachment, unknown sender), bulk (lists, newsletters), auto (auto-replies,
	// bounces, our own mail).
	Category string `json:"category,omitempty"`
	// Text is the start of what a unit wrote in a question, for the person who answers it.
	Text string `json:"text,omitempty"`
	// Answered is when the office marked a question as dealt with.
	Answered time.Time `json:"answered,omitzero"`
	// Junk: found in the provider's spam folder.
	Junk bool `json:"junk,omitempty"`
	// History: received long before briefd read it (replies.max_age, or before the first campaign
	// opened); recorded and counted, not answered (ReplyNote says why). `briefd resend` answers it.
	History bool `json:"history,omitempty"`
	// Corrections are the rechecks that changed the receipt's verdict, oldest first.
	Corrections []Correction `json:"corrections,omitempty"`
	// Manual is set on a receipt a person registered by hand (人工登记: a briefing handed in on paper or
	// sent through WeChat): no mail came and no reply is sent. Received is when it was registered.
	Manual *ManualEntry `json:"manual,omitempty"`
}

// ManualEntry says who registered a receipt by hand, and why.
type ManualEntry struct {
	Note   string `json:"note,omitempty"` // e.g. 纸质报送
	Via    string `json:"via"`            // command, socket or web (AuditEntry.Via)
	Client string `json:"client"`         // the user running the command, the browser's address
}

// Attachment is one file of a message and its check.
type Attachment struct {
	Filename    string `json:"filename"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Kind        string `json:"kind"`
	Verdict     string `json:"verdict"` // ok | reject
	Pages       int    `json:"pages"`
	Encrypted   bool   `json:"encrypted"`
	Reason      string `json:"reason"`
	DuplicateOf string `json:"duplicate_of"`
	Archived    string `json:"archived,omitempty"` // path in the archive, relative to its root
}

// OK reports whether the attachment is a usable PDF.
func (a Attachment) OK() bool { return a.Verdict == "ok" }

// Counts reports whether the receipt counts as a submission: it has at least one usable PDF.
func (r *Receipt) Counts() bool {
	return r.Verdict == VerdictAccepted || r.Verdict == VerdictPartial
}

// Correction is one recheck that changed a receipt (`briefd recheck`).
type Correction struct {
	At     time.Time `json:"at"`
	Before string    `json:"before"` // the verdict before
	After  string    `json:"after"`
	Files  string    `json:"files,omitempty"` // the files whose verdict changed: "a.pdf: reject: pdf_damaged → ok"
}
