package lottery

import "context"

// PrizeStats is how often one prize came out of a campaign's draws.
type PrizeStats struct {
	PrizeID int64 // 0: the consolation, or a miss
	Draws   int64
	Pity    int64 // of them, draws the pity counter forced
}

// Stats are a campaign's draw statistics.
type Stats struct {
	Draws   int64 // every draw
	Members int64 // members who drew at least once
	Free    int64 // draws that cost nothing (the day's free draws, or a free campaign)
	// PointsSpent is what the paid draws cost the members, in points.
	PointsSpent int64
	ByPrize     []PrizeStats // by prize id, 0 first
}

// Stats reads campaign id with its draw statistics.
func (s *Service) Stats(ctx context.Context, id int64) (*Campaign, Stats, error) {
	c, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return nil, Stats{}, err
	}
	st, err := s.Store.Stats(ctx, id)
	return c, st, err
}
