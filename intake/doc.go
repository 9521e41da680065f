// Package intake turns the mail that reaches the office mailbox into receipts: the IMAP watcher
// (imap.go) downloads new messages one at a time into a spool file, mailmsg reads each one (sender,
// subject, attachments, and whether it must get no automatic reply), zip.go opens zip archives sent as
// attachments into files checked like attachments, and the pipeline (pipeline.go) checks each
// attachment, matches the sender to a unit and a campaign, and records everything in one store
// transaction together with the queued reply.
package intake
