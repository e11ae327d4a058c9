package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// Lottery (domain/lottery) and referral (domain/referral). The draw row is
// the truth of a lottery; the prize row's Won is the stock guard (a
// conditional UPDATE), and lottery_members serialises one member's draws in
// one campaign (limits, free draws, pity streak).

type lotteryCampaignV1 struct {
	ID                int64     `gorm:"primaryKey;autoIncrement"`
	Name              string    `gorm:"size:64;not null"`
	StartsAt          time.Time `gorm:"not null"`
	EndsAt            time.Time `gorm:"not null"`
	CostPoints        int64     `gorm:"not null;default:0"`
	FreePerDay        int       `gorm:"not null;default:0"`
	LimitTotal        int       `gorm:"not null;default:0"`
	LimitDaily        int       `gorm:"not null;default:0"`
	PityAfter         int       `gorm:"not null;default:0"`
	ConsolationName   string    `gorm:"size:64;not null;default:''"`
	ConsolationPoints int64     `gorm:"not null;default:0"`
	CreatedAt         time.Time `gorm:"not null"`
	UpdatedAt         time.Time `gorm:"not null"`
}

func (lotteryCampaignV1) TableName() string { return "lottery_campaigns" }

type lotteryPrizeV1 struct {
	ID             int64  `gorm:"primaryKey;autoIncrement"`
	CampaignID     int64  `gorm:"not null;index:idx_lottery_prizes_campaign"`
	Name           string `gorm:"size:64;not null"`
	Kind           string `gorm:"size:12;not null"`
	Points         int64  `gorm:"not null;default:0"`
	CouponCode     string `gorm:"size:64;not null;default:''"`
	Weight         int64  `gorm:"not null"`
	Stock          int64  `gorm:"not null;default:-1"` // −1: unlimited
	Won            int64  `gorm:"not null;default:0"`  // kept for stocked prizes only
	PerMemberLimit int    `gorm:"not null;default:0"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (lotteryPrizeV1) TableName() string { return "lottery_prizes" }

type lotteryDrawV1 struct {
	ID         int64  `gorm:"primaryKey;autoIncrement;index:idx_lottery_draws_member,priority:3"`
	CampaignID int64  `gorm:"not null;index:idx_lottery_draws_member,priority:2;index:idx_lottery_draws_prize,priority:1"`
	MemberID   int64  `gorm:"not null;index:idx_lottery_draws_member,priority:1;uniqueIndex:uk_lottery_draws_key,priority:1"`
	IdemKey    string `gorm:"size:128;not null;uniqueIndex:uk_lottery_draws_key,priority:2"`
	Ref        string `gorm:"size:32;not null"`
	Day        int    `gorm:"not null"`
	PrizeID    int64  `gorm:"not null;default:0;index:idx_lottery_draws_prize,priority:2"` // 0: consolation
	PrizeKind  string `gorm:"size:12;not null"`
	PrizeName  string `gorm:"size:64;not null"`
	Points     int64  `gorm:"not null;default:0"`
	CouponCode string `gorm:"size:64;not null;default:''"`
	CostPoints int64  `gorm:"not null;default:0"`
	Free       bool   `gorm:"not null;default:false"`
	Pity       bool   `gorm:"not null;default:false"`
	CreatedAt  time.Time
}

func (lotteryDrawV1) TableName() string { return "lottery_draws" }

type lotteryMemberV1 struct {
	CampaignID int64 `gorm:"primaryKey;autoIncrement:false"`
	MemberID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Draws      int   `gorm:"not null;default:0"`
	Day        int   `gorm:"not null;default:0"` // yyyymmdd of DayDraws and FreeUsed
	DayDraws   int   `gorm:"not null;default:0"`
	FreeUsed   int   `gorm:"not null;default:0"`
	MissStreak int   `gorm:"not null;default:0"`
	UpdatedAt  time.Time
}

func (lotteryMemberV1) TableName() string { return "lottery_members" }

type inviteCodeV1 struct {
	MemberID  int64  `gorm:"primaryKey;autoIncrement:false"`
	Code      string `gorm:"size:16;not null;uniqueIndex:uk_invite_codes_code"`
	CreatedAt time.Time
}

func (inviteCodeV1) TableName() string { return "invite_codes" }

// referralV1 is one binding: invitee (unique: a member binds once) to
// inviter, with the inviter's own inviter copied for the second level.
type referralV1 struct {
	InviteeID int64  `gorm:"primaryKey;autoIncrement:false"`
	InviterID int64  `gorm:"not null;index:idx_referrals_inviter"`
	Parent2ID int64  `gorm:"not null;default:0;index:idx_referrals_parent2"`
	Flagged   bool   `gorm:"not null;default:false"`
	FlagNote  string `gorm:"size:128;not null;default:''"`
	CreatedAt time.Time
}

func (referralV1) TableName() string { return "referrals" }

// referralRewardV1 is one reward paid (or refused by the daily cap); the
// unique (invitee, event, beneficiary) keeps each reward single.
type referralRewardV1 struct {
	ID            int64  `gorm:"primaryKey;autoIncrement"`
	InviteeID     int64  `gorm:"not null;uniqueIndex:uk_referral_rewards,priority:1"`
	Event         string `gorm:"size:16;not null;uniqueIndex:uk_referral_rewards,priority:2"`
	BeneficiaryID int64  `gorm:"not null;uniqueIndex:uk_referral_rewards,priority:3;index:idx_referral_rewards_day,priority:1"`
	Level         int    `gorm:"not null"`
	Points        int64  `gorm:"not null"`
	Day           int    `gorm:"not null;index:idx_referral_rewards_day,priority:2"`
	Status        string `gorm:"size:12;not null"` // paid, capped, flagged (reversed: 555)
	CreatedAt     time.Time
}

func (referralRewardV1) TableName() string { return "referral_rewards" }

// referralRewardV2 adds the order a first-order reward was paid for and
// when its points become available (the order's return window; NULL: at
// once), so that a full refund within the window reverses it (status
// reversed).
type referralRewardV2 struct {
	ID          int64  `gorm:"primaryKey;autoIncrement"`
	OrderID     string `gorm:"size:64;not null;default:''"`
	AvailableAt *time.Time
}

func (referralRewardV2) TableName() string { return "referral_rewards" }

func addRewardOrder(tx *gorm.DB) error {
	for _, col := range []string{"OrderID", "AvailableAt"} {
		if err := tx.Migrator().AddColumn(&referralRewardV2{}, col); err != nil {
			return err
		}
	}
	return nil
}

// referralIdentityV1 remembers every phone and unionid a member had, so a
// person coming back under a new account is recognised even after the
// first account let go of the phone.
type referralIdentityV1 struct {
	Kind      string `gorm:"size:8;primaryKey"`
	Value     string `gorm:"size:64;primaryKey"`
	MemberID  int64  `gorm:"primaryKey;autoIncrement:false"`
	CreatedAt time.Time
}

func (referralIdentityV1) TableName() string { return "referral_identities" }

var growth = []repo.Migration{
	{Version: 501, Name: "lottery_campaigns", Up: repo.CreateTables(&lotteryCampaignV1{})},
	{Version: 502, Name: "lottery_prizes", Up: repo.CreateTables(&lotteryPrizeV1{})},
	{Version: 503, Name: "lottery_draws", Up: repo.CreateTables(&lotteryDrawV1{})},
	{Version: 504, Name: "lottery_members", Up: repo.CreateTables(&lotteryMemberV1{})},
	{Version: 551, Name: "invite_codes", Up: repo.CreateTables(&inviteCodeV1{})},
	{Version: 552, Name: "referrals", Up: repo.CreateTables(&referralV1{})},
	{Version: 553, Name: "referral_rewards", Up: repo.CreateTables(&referralRewardV1{})},
	{Version: 554, Name: "referral_identities", Up: repo.CreateTables(&referralIdentityV1{})},
	{Version: 555, Name: "referral_rewards_order", Up: addRewardOrder},
}
