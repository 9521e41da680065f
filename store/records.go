package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrExists is returned (wrapped) when something is added under an id already taken.
var ErrExists = errors.New("already exists")

// CampaignRecord is a campaign the office added at run time (`briefd campaign add`, the dashboard's
// 报送任务 page). Dates are YYYY-MM-DD in the office time zone. The store keeps what it is given; the
// office checks it against the roster's rules first.
type CampaignRecord struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Units    []string  `json:"units,omitempty"` // unit ids or kinds (kind:county); empty: every unit
	Opens    string    `json:"opens"`
	Due      string    `json:"due,omitempty"`   // once campaigns
	Every    string    `json:"every,omitempty"` // "" or month
	Until    string    `json:"until,omitempty"` // monthly campaigns: the last due date
	Keywords []string  `json:"keywords,omitempty"`
	Closed   string    `json:"closed,omitempty"` // the day it was closed (no more reminders)
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// UnitRecord is a unit the office added or changed at run time (the dashboard's 单位 page, a spreadsheet
// import, `briefd unit`). It replaces the unit of the same id in config.yaml or units_file.
type UnitRecord struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Aliases []string  `json:"aliases,omitempty"`
	Emails  []string  `json:"emails,omitempty"`
	Kind    string    `json:"kind,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Campaigns returns the campaigns added at run time, in the order they were added.
func (s *Store) Campaigns() ([]CampaignRecord, error) {
	var out []CampaignRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCampaigns).ForEach(func(k, v []byte) error {
			var c CampaignRecord
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("store: campaign %s: %w", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b CampaignRecord) int { return a.Created.Compare(b.Created) })
	return out, err
}

// PutCampaign writes a campaign and audit (when not nil) in one transaction. With create, a campaign of
// the same id must not exist (ErrExists); otherwise it must (ErrNotFound) and keeps its Created.
func (s *Store) PutCampaign(c *CampaignRecord, create bool, audit *AuditEntry) error {
	err := s.update(audit, func(tx *bolt.Tx) error {
		b := tx.Bucket(bCampaigns)
		old := b.Get([]byte(c.ID))
		switch {
		case create && old != nil:
			return fmt.Errorf("campaign %s: %w", c.ID, ErrExists)
		case !create && old == nil:
			return fmt.Errorf("campaign %s: %w", c.ID, ErrNotFound)
		case old != nil:
			var prev CampaignRecord
			if err := json.Unmarshal(old, &prev); err != nil {
				return err
			}
			c.Created = prev.Created
		}
		return putJSON(b, []byte(c.ID), c)
	})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Units returns the units added or changed at run time, in the order they were first written.
func (s *Store) Units() ([]UnitRecord, error) {
	var out []UnitRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bUnits).ForEach(func(k, v []byte) error {
			var u UnitRecord
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("store: unit %s: %w", k, err)
			}
			out = append(out, u)
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b UnitRecord) int { return a.Created.Compare(b.Created) })
	return out, err
}

// PutUnits writes units (new ones, or new versions of units written before, which keep their Created)
// and audit (when not nil) in one transaction.
func (s *Store) PutUnits(us []UnitRecord, audit *AuditEntry) error {
	err := s.update(audit, func(tx *bolt.Tx) error {
		b := tx.Bucket(bUnits)
		for i := range us {
			u := &us[i]
			if old := b.Get([]byte(u.ID)); old != nil {
				var prev UnitRecord
				if err := json.Unmarshal(old, &prev); err != nil {
					return err
				}
				u.Created = prev.Created
			}
			if err := putJSON(b, []byte(u.ID), u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: units: %w", err)
	}
	return nil
}
