package mallstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo"
)

// Payments implements mall.PayStore (table mall_payments).
type Payments struct {
	DB *repo.DB
}

var _ mall.PayStore = (*Payments)(nil)

type paymentRow struct {
	RedemptionID  int64 `gorm:"primaryKey;autoIncrement:false"`
	MemberID      int64
	ItemID        int64
	OutTradeNo    string
	CashFen       int64
	Status        string
	PrepayID      string
	TransactionID string
	Deadline      time.Time
	Note          string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (paymentRow) TableName() string { return "mall_payments" }

func (r paymentRow) toDomain() mall.Payment {
	return mall.Payment{RedemptionID: r.RedemptionID, MemberID: r.MemberID, ItemID: r.ItemID, OutTradeNo: r.OutTradeNo,
		CashFen: r.CashFen, Status: mall.PayStatus(r.Status), PrepayID: r.PrepayID, TransactionID: r.TransactionID,
		Deadline: r.Deadline.UTC(), Note: r.Note, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func (s *Payments) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

// InsertPayment stores p.
func (s *Payments) InsertPayment(ctx context.Context, p *mall.Payment) error {
	row := paymentRow{RedemptionID: p.RedemptionID, MemberID: p.MemberID, ItemID: p.ItemID, OutTradeNo: p.OutTradeNo,
		CashFen: p.CashFen, Status: string(p.Status), PrepayID: p.PrepayID, TransactionID: p.TransactionID,
		Deadline: p.Deadline.UTC(), Note: p.Note, CreatedAt: p.CreatedAt.UTC().Truncate(time.Millisecond), UpdatedAt: p.UpdatedAt.UTC().Truncate(time.Millisecond)}
	if err := s.db(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("insert payment: %w", err)
	}
	return nil
}

func (s *Payments) one(q *gorm.DB) (mall.Payment, bool, error) {
	var rows []paymentRow
	if err := s.DB.ForUpdate(q).Limit(1).Find(&rows).Error; err != nil {
		return mall.Payment{}, false, fmt.Errorf("load payment: %w", err)
	}
	if len(rows) == 0 {
		return mall.Payment{}, false, nil
	}
	return rows[0].toDomain(), true, nil
}

// Payment loads and locks the payment of a redemption.
func (s *Payments) Payment(ctx context.Context, redemptionID int64) (mall.Payment, bool, error) {
	return s.one(s.db(ctx).Where("redemption_id = ?", redemptionID))
}

// PaymentByTradeNo loads and locks the payment with out_trade_no.
func (s *Payments) PaymentByTradeNo(ctx context.Context, outTradeNo string) (mall.Payment, bool, error) {
	return s.one(s.db(ctx).Where("out_trade_no = ?", outTradeNo))
}

// UpdatePayment saves status, prepay id, transaction id and note.
func (s *Payments) UpdatePayment(ctx context.Context, p *mall.Payment) error {
	err := s.db(ctx).Model(&paymentRow{}).Where("redemption_id = ?", p.RedemptionID).Updates(map[string]any{
		"status": string(p.Status), "prepay_id": p.PrepayID, "transaction_id": p.TransactionID, "note": p.Note,
		"updated_at": p.UpdatedAt.UTC().Truncate(time.Millisecond)}).Error
	if err != nil {
		return fmt.Errorf("update payment: %w", err)
	}
	return nil
}

// DuePayments lists pending payments past their deadline.
func (s *Payments) DuePayments(ctx context.Context, now time.Time, limit int) ([]mall.Payment, error) {
	if limit <= 0 {
		limit = 500
	}
	var rows []paymentRow
	if err := s.db(ctx).Where("status = ? AND deadline <= ?", string(mall.PayPending), now.UTC()).
		Order("deadline, redemption_id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("due payments: %w", err)
	}
	out := make([]mall.Payment, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.toDomain())
	}
	return out, nil
}
