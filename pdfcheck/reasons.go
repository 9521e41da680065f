package pdfcheck

// Reason codes: stable strings that receipts, replies and the office's scripts depend on.
const (
	ReasonNotPDFWord  = "not_pdf_word"
	ReasonNotPDFExcel = "not_pdf_excel"
	ReasonNotPDFPPT   = "not_pdf_ppt"
	ReasonNotPDFWPS   = "not_pdf_wps"
	ReasonOFD         = "ofd"
	ReasonImage       = "image"
	ReasonArchive     = "archive"
	ReasonHTML        = "html"
	ReasonNotPDF      = "not_pdf"
	ReasonEmpty       = "empty"
	ReasonTooLarge    = "too_large"
	ReasonPassword    = "pdf_password"
	ReasonDamaged     = "pdf_damaged"
	ReasonNoPages     = "pdf_no_pages"
	ReasonCheckFailed = "check_failed"
	ReasonUnreadable  = "unreadable"
)

// Reason codes for zip archives sent as attachments (intake.Unzip): for the archive as a whole, or for
// one file inside it (ReasonZipNested, ReasonZipMethod, ReasonZipDamaged).
const (
	ReasonZipNoPDF      = "zip_no_pdf"
	ReasonZipEncrypted  = "zip_encrypted"
	ReasonZipTooMany    = "zip_too_many"
	ReasonZipTooLarge   = "zip_too_large"
	ReasonZipBomb       = "zip_bomb"
	ReasonZipUnsafePath = "zip_unsafe_path"
	ReasonZipDamaged    = "zip_damaged"
	ReasonZipNested     = "zip_nested"
	ReasonZipMethod     = "zip_method"
	// ReasonArchiveOther is a RAR, 7z, gzip, ... archive: not opened at all.
	ReasonArchiveOther = "archive_unsupported"
)

var reasonTexts = map[string][2]string{
	ReasonNotPDFWord: {"附件是Word文档，不是PDF。请在Word中选择“另存为”→“PDF”后重新发送。",
		"the attachment is a Word document, not a PDF"},
	ReasonNotPDFExcel: {"附件是Excel表格，不是PDF。请在Excel中选择“另存为”→“PDF”后重新发送。",
		"the attachment is an Excel spreadsheet, not a PDF"},
	ReasonNotPDFPPT: {"附件是PowerPoint演示文稿，不是PDF。请在PowerPoint中选择“另存为”→“PDF”后重新发送。",
		"the attachment is a PowerPoint presentation, not a PDF"},
	ReasonNotPDFWPS: {"附件是WPS文档，不是PDF。请在WPS中选择“输出为PDF”后重新发送。",
		"the attachment is a Kingsoft WPS document, not a PDF"},
	ReasonOFD: {"附件是OFD版式文件，不是PDF。请用OFD阅读器或WPS将其转换为PDF后重新发送。",
		"the attachment is an OFD document, not a PDF"},
	ReasonImage: {"附件是图片，不是PDF。请将纸质材料扫描为PDF（或用WPS等把图片转换为PDF）后重新发送。",
		"the attachment is an image, not a PDF"},
	ReasonArchive: {"附件是压缩包，不是PDF。请直接把PDF文件作为附件发送，不要压缩。",
		"the attachment is an archive (zip/rar/7z), not a PDF"},
	ReasonHTML: {"附件是网页文件，不是PDF。请把原文件另存为PDF后作为附件发送。",
		"the attachment is an HTML page, not a PDF"},
	ReasonNotPDF: {"附件不是PDF文件。请把简报另存为PDF后重新发送。",
		"the attachment is not a PDF"},
	ReasonEmpty: {"附件是空文件（0字节），可能上传失败。请重新添加附件后发送。",
		"the attachment is empty (0 bytes)"},
	ReasonTooLarge: {"附件太大，超过了系统的大小限制。请压缩PDF中的图片或拆分成几个文件后重新发送。",
		"the attachment exceeds the size limit"},
	ReasonPassword: {"PDF设置了打开密码，打开时必须输入密码，我们无法查看。请取消打开密码后重新导出PDF发送（只限制编辑、复制或打印的PDF不受影响，可以直接发送）。",
		"the PDF asks for a password to open"},
	ReasonDamaged: {"PDF文件已损坏，用PDF阅读器也无法正常打开或显示（可能下载或上传不完整）。请重新导出PDF后发送。",
		"the PDF is damaged: viewers cannot open or show it either"},
	ReasonNoPages: {"PDF文件中找不到任何页面，打开后看不到内容（文件可能不完整或已损坏）。请重新导出PDF后发送。",
		"the PDF has no page a viewer can show"},
	ReasonCheckFailed: {"系统无法自动检查这个PDF文件（文件结构异常或过于复杂）。请确认文件能正常打开，重新另存为PDF后发送。",
		"the checker crashed, ran out of memory or timed out on this file"},
	ReasonUnreadable: {"系统读取附件时出错。请重新发送。",
		"the attachment could not be read from the spool"},

	ReasonZipNoPDF: {"压缩包中没有PDF文件。请直接以PDF附件发送。",
		"the zip archive holds no PDF"},
	ReasonZipEncrypted: {"压缩包设置了密码，无法打开。请直接以PDF附件发送，不要压缩或加密。",
		"the zip archive is encrypted"},
	ReasonZipTooMany: {"压缩包中的文件太多，系统不逐一打开。请分几封邮件，直接以PDF附件发送。",
		"the zip archive has too many entries"},
	ReasonZipTooLarge: {"压缩包解压后超过了系统的大小限制。请分几封邮件，直接以PDF附件发送。",
		"the zip archive's content exceeds the size limit"},
	ReasonZipBomb: {"压缩包结构异常（解压后的大小与压缩数据明显不符），系统拒绝打开。请直接以PDF附件发送。",
		"the zip archive looks like a decompression bomb (compression ratio or overlapping entries)"},
	ReasonZipUnsafePath: {"压缩包中有不安全的文件路径（如“../”或绝对路径），系统拒绝打开。请直接以PDF附件发送。",
		"a path in the zip archive leaves its folder (.., absolute path or drive letter)"},
	ReasonZipDamaged: {"压缩包或其中的文件已损坏，无法解开（可能下载或上传不完整）。请直接以PDF附件发送。",
		"the zip archive or this entry of it is damaged"},
	ReasonZipNested: {"这是压缩包里的另一个压缩包，系统不再打开。请直接以PDF附件发送。",
		"an archive inside the zip archive: not opened"},
	ReasonZipMethod: {"压缩包使用了系统不支持的压缩方式，无法解开。请直接以PDF附件发送。",
		"the zip entry uses a compression method other than store or deflate"},
	ReasonArchiveOther: {"附件是RAR、7z等格式的压缩包，系统无法打开。请直接以PDF附件发送。",
		"the attachment is a RAR, 7z, gzip or other non-zip archive"},
}

// ReasonText returns, for a reason code, one Chinese sentence for the reply to a school clerk, saying what
// is wrong and what to do, and an English one for logs. An unknown code gets a generic sentence; "" (ok)
// gets empty strings.
func ReasonText(code string) (zh, en string) {
	if code == "" {
		return "", ""
	}
	if t, ok := reasonTexts[code]; ok {
		return t[0], t[1]
	}
	return "附件无法作为PDF打开。请把简报另存为PDF后重新发送。", "rejected: " + code
}

// reasonForKind maps a non-PDF kind to its reason code.
func reasonForKind(kind string) string {
	switch kind {
	case KindDoc, KindDocx:
		return ReasonNotPDFWord
	case KindXls, KindXlsx:
		return ReasonNotPDFExcel
	case KindPpt, KindPptx:
		return ReasonNotPDFPPT
	case KindWPS:
		return ReasonNotPDFWPS
	case KindOFD:
		return ReasonOFD
	case KindImage:
		return ReasonImage
	case KindArchive:
		return ReasonArchive
	case KindHTML:
		return ReasonHTML
	case KindEmpty:
		return ReasonEmpty
	}
	return ReasonNotPDF
}
