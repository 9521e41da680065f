// Package pdfcpuconf holds the one setting briefd makes to pdfcpu's global configuration.
package pdfcpuconf

import (
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

var once sync.Once

// NoConfigDir stops pdfcpu from reading or writing a configuration folder in the user's home, once per
// process (safe to call from any goroutine). It is what api.DisableConfigDir does: briefd does not import
// pdfcpu's api package, which links its form package and with it go-runewidth, whose init would cost
// every briefd command tens of milliseconds at start.
func NoConfigDir() { once.Do(func() { model.ConfigPath = "disable" }) }
