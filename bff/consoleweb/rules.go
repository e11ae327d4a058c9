package consoleweb

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ruleadmin"
	"github.com/jifen/jifen/domain/rules"
)

// The choices the rule form offers, in the order shown.
var (
	ruleTriggers = []rules.Trigger{rules.OrderPaid, rules.FirstPurchase, rules.Recharge, rules.SignIn, rules.Task,
		rules.Referral, rules.Review, rules.Share, rules.Birthday, rules.Anniversary}
	ruleKinds = []rules.EffectKind{rules.Rate, rules.Fixed, rules.Multiplier, rules.Bonus}
	weekdays  = []int{1, 2, 3, 4, 5, 6, 7}
)

const bracketRows = 4 // rate brackets the form shows; blank rows are ignored

type bracketForm struct{ From, To, PerMille string }

// ruleForm is a rule as the form shows it: text as typed (money in yuan),
// so a refused form comes back as the marketer left it.
type ruleForm struct {
	ID                                                int64
	Version                                           int
	Name, Trigger, Status, Priority, Stacking         string
	ValidFrom, ValidTo                                string
	MinAmount, MaxAmount                              string
	Categories, Tiers, Dates, Codes, Channels, Stores string
	Weekdays                                          map[int]bool
	NthOrder, EveryNthOrder, OrdersInWeek, MinStreak  string
	FirstPurchase, BirthdayMonth                      bool
	Kind, Points, PerMille                            string
	Brackets                                          []bracketForm
	CapDay, CapWeek, CapMonth, Budget                 string
}

func ruleFormOf(r rules.Rule) ruleForm {
	c := r.Conditions
	f := ruleForm{ID: r.ID, Version: r.Version, Name: r.Name, Trigger: string(r.Trigger), Status: string(r.Status),
		Priority: intText(int64(r.Priority)), Stacking: string(r.Stacking), ValidFrom: localText(r.ValidFrom), ValidTo: localText(r.ValidTo),
		MinAmount: yuanText(c.MinAmountFen), MaxAmount: yuanText(c.MaxAmountFen),
		Categories: strings.Join(c.Categories, ", "), Tiers: strings.Join(c.Tiers, ", "), Dates: strings.Join(c.Dates, ", "),
		Codes: strings.Join(c.Codes, ", "), Channels: strings.Join(c.Channels, ", "), Stores: strings.Join(c.Stores, ", "),
		Weekdays: map[int]bool{}, NthOrder: intText(c.NthOrder), EveryNthOrder: intText(c.EveryNthOrder),
		OrdersInWeek: intText(c.OrdersInWeek), MinStreak: intText(int64(c.MinStreak)),
		FirstPurchase: c.FirstPurchase, BirthdayMonth: c.BirthdayMonth,
		Kind: string(r.Effect.Kind), Points: intText(r.Effect.Points), PerMille: intText(r.Effect.PerMille),
		CapDay: intText(r.Caps.PerDay), CapWeek: intText(r.Caps.PerWeek), CapMonth: intText(r.Caps.PerMonth), Budget: intText(r.Budget)}
	for _, d := range c.Weekdays {
		f.Weekdays[d] = true
	}
	for _, b := range r.Effect.Brackets {
		from := yuanText(b.FromFen)
		if from == "" {
			from = "0" // a bracket starts somewhere; blank is for an unused row
		}
		f.Brackets = append(f.Brackets, bracketForm{From: from, To: yuanText(b.ToFen), PerMille: intText(b.PerMille)})
	}
	if f.Status == "" {
		f.Status = string(rules.Active)
	}
	f.pad()
	return f
}

// newRuleForm is the form for a new rule: 1 point per yuan on paid orders.
func newRuleForm() ruleForm {
	return ruleFormOf(rules.Rule{Trigger: rules.OrderPaid, Status: rules.Active, Stacking: rules.Stackable,
		Effect: rules.Effect{Kind: rules.Rate, Brackets: []rules.Bracket{{FromFen: 0, PerMille: 1000}}}})
}

func (f *ruleForm) pad() {
	for len(f.Brackets) < bracketRows {
		f.Brackets = append(f.Brackets, bracketForm{})
	}
}

func readRuleForm(c *gin.Context) ruleForm {
	f := ruleForm{Name: c.PostForm("name"), Trigger: c.PostForm("trigger"), Status: c.PostForm("status"),
		Priority: c.PostForm("priority"), Stacking: c.PostForm("stacking"), ValidFrom: c.PostForm("valid_from"), ValidTo: c.PostForm("valid_to"),
		MinAmount: c.PostForm("min_amount"), MaxAmount: c.PostForm("max_amount"), Categories: c.PostForm("categories"),
		Tiers: c.PostForm("tiers"), Dates: c.PostForm("dates"), Codes: c.PostForm("codes"), Channels: c.PostForm("channels"),
		Stores: c.PostForm("stores"), Weekdays: map[int]bool{}, NthOrder: c.PostForm("nth_order"),
		EveryNthOrder: c.PostForm("every_nth_order"), OrdersInWeek: c.PostForm("orders_in_week"), MinStreak: c.PostForm("min_streak"),
		FirstPurchase: c.PostForm("first_purchase") != "", BirthdayMonth: c.PostForm("birthday_month") != "",
		Kind: c.PostForm("kind"), Points: c.PostForm("points"), PerMille: c.PostForm("per_mille"),
		CapDay: c.PostForm("cap_day"), CapWeek: c.PostForm("cap_week"), CapMonth: c.PostForm("cap_month"), Budget: c.PostForm("budget")}
	f.Version, _ = strconv.Atoi(c.PostForm("version"))
	for _, d := range c.PostFormArray("weekday") {
		if n, err := strconv.Atoi(d); err == nil && n >= 1 && n <= 7 {
			f.Weekdays[n] = true
		}
	}
	from, to, pm := c.PostFormArray("bracket_from"), c.PostFormArray("bracket_to"), c.PostFormArray("bracket_per_mille")
	for i := 0; i < len(from) && i < len(to) && i < len(pm) && i < 50; i++ {
		f.Brackets = append(f.Brackets, bracketForm{From: from[i], To: to[i], PerMille: pm[i]})
	}
	f.pad()
	return f
}

// rule is the form as the rule the JSON API would receive; the rule's own
// checks (rules.Validate) run in the service, as for the API.
func (f ruleForm) rule() (rules.Rule, error) {
	bad := formErrors{}
	r := rules.Rule{ID: f.ID, Version: f.Version, Name: f.Name, Trigger: rules.Trigger(f.Trigger), Status: rules.Status(f.Status),
		Priority: int(bad.int("priority", f.Priority)), Stacking: rules.Stacking(f.Stacking),
		ValidFrom: bad.localTime("valid_from", f.ValidFrom), ValidTo: bad.localTime("valid_to", f.ValidTo)}
	c := &r.Conditions
	c.MinAmountFen, c.MaxAmountFen = bad.fen("conditions.min_amount_fen", f.MinAmount), bad.fen("conditions.max_amount_fen", f.MaxAmount)
	c.Categories, c.Tiers, c.Dates, c.Codes, c.Channels, c.Stores = list(f.Categories), list(f.Tiers), list(f.Dates), list(f.Codes), list(f.Channels), list(f.Stores)
	for _, d := range weekdays {
		if f.Weekdays[d] {
			c.Weekdays = append(c.Weekdays, d)
		}
	}
	c.NthOrder, c.EveryNthOrder = bad.int("conditions.nth_order", f.NthOrder), bad.int("conditions.every_nth_order", f.EveryNthOrder)
	c.OrdersInWeek, c.MinStreak = bad.int("conditions.orders_in_week", f.OrdersInWeek), int(bad.int("conditions.min_streak", f.MinStreak))
	c.FirstPurchase, c.BirthdayMonth = f.FirstPurchase, f.BirthdayMonth
	r.Effect.Kind = rules.EffectKind(f.Kind)
	switch r.Effect.Kind { // only the fields of the chosen effect, as the API would be sent
	case rules.Fixed, rules.Bonus:
		r.Effect.Points = bad.int("effect.points", f.Points)
	case rules.Multiplier:
		r.Effect.PerMille = bad.int("effect.per_mille", f.PerMille)
	case rules.Rate:
		for _, b := range f.Brackets {
			if strings.TrimSpace(b.From+b.To+b.PerMille) == "" {
				continue
			}
			p := fmt.Sprintf("effect.brackets[%d].", len(r.Effect.Brackets))
			r.Effect.Brackets = append(r.Effect.Brackets, rules.Bracket{FromFen: bad.fen(p+"from_fen", b.From),
				ToFen: bad.fen(p+"to_fen", b.To), PerMille: bad.int(p+"per_mille", b.PerMille)})
		}
	}
	r.Caps = rules.Caps{PerDay: bad.int("caps.per_day", f.CapDay), PerWeek: bad.int("caps.per_week", f.CapWeek), PerMonth: bad.int("caps.per_month", f.CapMonth)}
	r.Budget = bad.int("budget", f.Budget)
	return r, bad.err()
}

// simForm is the order (or other event) the marketer tries the draft on.
type simForm struct {
	Total, Store, Channel, Tier, PaidOrders, Birthday, At, Code, Streak string
	FirstPurchase                                                       bool
	Lines                                                               []simLine
}

type simLine struct{ Category, Amount string }

const simLines = 3

func readSimForm(c *gin.Context) simForm {
	s := simForm{Total: c.PostForm("sim_total"), Store: c.PostForm("sim_store"), Channel: c.PostForm("sim_channel"),
		Tier: c.PostForm("sim_tier"), PaidOrders: c.PostForm("sim_paid_orders"), Birthday: c.PostForm("sim_birthday"),
		At: c.PostForm("sim_at"), Code: c.PostForm("sim_code"), Streak: c.PostForm("sim_streak"),
		FirstPurchase: c.PostForm("sim_first_purchase") != ""}
	cats, amounts := c.PostFormArray("sim_line_category"), c.PostFormArray("sim_line_amount")
	for i := 0; i < len(cats) && i < len(amounts) && i < simLines; i++ {
		s.Lines = append(s.Lines, simLine{Category: cats[i], Amount: amounts[i]})
	}
	s.pad()
	return s
}

func (s *simForm) pad() {
	for len(s.Lines) < simLines {
		s.Lines = append(s.Lines, simLine{})
	}
}

// input is the event as rules.Input, the same the JSON simulate builds.
func (s simForm) input(trigger rules.Trigger) (rules.Input, error) {
	bad := formErrors{}
	in := rules.Input{Trigger: trigger, Code: strings.TrimSpace(s.Code), Streak: int(bad.int("streak", s.Streak))}
	in.Member = rules.Member{Tier: strings.TrimSpace(s.Tier), Birthday: strings.TrimSpace(s.Birthday),
		PaidOrders: bad.int("member.paid_orders", s.PaidOrders), FirstPurchase: s.FirstPurchase}
	in.Member.PaidOrdersThisWeek = in.Member.PaidOrders
	if at := bad.localTime("at", s.At); at != nil {
		in.At = *at
	}
	if trigger == rules.OrderPaid || trigger == rules.FirstPurchase || trigger == rules.Recharge {
		o := &rules.Order{ID: "simulated", AmountFen: bad.fen("order.total_fen", s.Total), Store: strings.TrimSpace(s.Store),
			Channel: strings.TrimSpace(s.Channel), OccurredAt: in.At}
		for i, l := range s.Lines {
			if strings.TrimSpace(l.Category+l.Amount) == "" {
				continue
			}
			o.Lines = append(o.Lines, rules.OrderLine{SKU: fmt.Sprintf("line-%d", i+1), Category: strings.TrimSpace(l.Category), Qty: 1,
				AmountFen: bad.fen(fmt.Sprintf("order.lines[%d].amount_fen", i), l.Amount)})
		}
		if o.AmountFen <= 0 && len(o.Lines) == 0 {
			bad.add("order.total_fen", "problem.sim_order")
		}
		in.Order = o
	}
	return in, bad.err()
}

type rulesData struct {
	Triggers []rules.Trigger
	Trigger  string
	Status   string
	Rules    []rules.Rule
}

// listRules is GET /console/rules?trigger=&status=: the same Rules.List as
// GET /api/v1/console/rules.
func (h *Handlers) listRules(c *gin.Context) {
	d := rulesData{Triggers: ruleTriggers, Trigger: c.Query("trigger"), Status: c.Query("status")}
	var err error
	if d.Rules, err = h.API.Rules.List(c.Request.Context(), rules.Filter{Trigger: rules.Trigger(d.Trigger), Status: rules.Status(d.Status)}); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "rules", "rules.title", d)
}

type ruleData struct {
	Triggers []rules.Trigger
	Kinds    []rules.EffectKind
	Weekdays []int
	Form     ruleForm
	Current  *rules.Rule // nil for a new rule
	Saved    bool
	Errors   []string
	Sim      simForm
	Result   *rules.Result
	SimError []string
}

func (h *Handlers) ruleData(f ruleForm) ruleData {
	d := ruleData{Triggers: ruleTriggers, Kinds: ruleKinds, Weekdays: weekdays, Form: f}
	d.Sim.pad()
	return d
}

func (h *Handlers) renderRule(c *gin.Context, status int, d ruleData) {
	if d.Form.ID == 0 {
		h.render(c, status, "rule", "rule.new", d)
		return
	}
	h.render(c, status, "rule", "rule.title", d, d.Form.ID)
}

// newRule is GET /console/rules/new.
func (h *Handlers) newRule(c *gin.Context) {
	h.renderRule(c, http.StatusOK, h.ruleData(newRuleForm()))
}

// editRule is GET /console/rules/{id}: the current version as the form.
func (h *Handlers) editRule(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	r, err := h.API.Rules.Get(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	d := h.ruleData(ruleFormOf(r))
	d.Current, d.Saved = &r, c.Query("saved") != ""
	h.renderRule(c, http.StatusOK, d)
}

func ruleActor(c *gin.Context) ruleadmin.Actor {
	cl := web.Claims(c)
	return ruleadmin.Actor{Name: cl.Subject, Role: cl.Role}
}

// saveRule is POST /console/rules (create) and POST /console/rules/{id}
// (a new version; the form's version must still be the current one):
// RuleAdmin.Create / Update, the JSON API's calls, audited the same.
func (h *Handlers) saveRule(c *gin.Context) {
	f := readRuleForm(c)
	if c.Param("id") != "" {
		id, err := pathID(c)
		if err != nil {
			h.fail(c, err)
			return
		}
		f.ID = id
	}
	r, err := f.rule()
	var next string
	if err == nil {
		next, err = h.once(c, func(ctx context.Context) (string, error) {
			var err error
			if f.ID == 0 {
				r, err = h.API.RuleAdmin.Create(ctx, ruleActor(c), r)
			} else {
				r, err = h.API.RuleAdmin.Update(ctx, ruleActor(c), r)
			}
			return fmt.Sprintf("/console/rules/%d?saved=%d", r.ID, r.Version), err
		})
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	h.ruleFormFailed(c, f, err)
}

// ruleFormFailed shows the form again as sent, with the problems, when
// they are the marketer's to fix; other errors are the error page.
func (h *Handlers) ruleFormFailed(c *gin.Context, f ruleForm, err error) {
	status, detail := web.Describe(c, err)
	if status >= 500 || detail.Code == domain.NotFound || detail.Code == domain.Forbidden {
		h.fail(c, err)
		return
	}
	d := h.ruleData(f)
	if f.ID != 0 {
		if cur, gerr := h.API.Rules.Get(c.Request.Context(), f.ID); gerr == nil {
			d.Current = &cur
		}
	}
	d.Errors = problems(h.lang(c), detail)
	h.renderRule(c, status, d)
}

// setRuleStatus is POST /console/rules/{id}/status: activate or
// deactivate, as a PUT of the current version with the other status.
func (h *Handlers) setRuleStatus(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	st := rules.Status(c.PostForm("status"))
	if st != rules.Active && st != rules.Inactive {
		h.fail(c, domain.FieldError("status", "problem.rule_status"))
		return
	}
	version, _ := strconv.Atoi(c.PostForm("version"))
	if version <= 0 {
		h.fail(c, domain.FieldError("version", "problem.version"))
		return
	}
	next, err := h.once(c, func(ctx context.Context) (string, error) {
		r, err := h.API.Rules.Get(ctx, id)
		if err == nil && r.Status == rules.Deleted {
			err = domain.Errorf(domain.NotFound, "problem.rule_deleted")
		}
		if err == nil {
			r.Status, r.Version = st, version
			_, err = h.API.RuleAdmin.Update(ctx, ruleActor(c), r)
		}
		return "/console/rules", err
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, next)
}

// simulateRule is POST /console/rules/simulate (any role: it writes
// nothing): the form's rule as a draft (rules.Service.Simulate, as the
// JSON simulate with "draft") on the form's order, with the breakdown.
func (h *Handlers) simulateRule(c *gin.Context) {
	f := readRuleForm(c)
	f.ID, _ = strconv.ParseInt(c.PostForm("id"), 10, 64)
	d := h.ruleData(f)
	d.Sim = readSimForm(c)
	draft, err := f.rule()
	var in rules.Input
	if err == nil {
		in, err = d.Sim.input(draft.Trigger)
	}
	if err == nil {
		in.Draft = &draft
		var res rules.Result
		if res, err = h.API.Rules.Simulate(c.Request.Context(), in); err == nil {
			d.Result = &res
		}
	}
	if err != nil {
		status, detail := web.Describe(c, err)
		if status >= 500 {
			h.fail(c, err)
			return
		}
		d.SimError = problems(h.lang(c), detail)
	}
	if c.GetHeader("HX-Request") != "" {
		h.renderBlock(c, http.StatusOK, "rule", "breakdown", h.page(c, "rule.simulate", d))
		return
	}
	if f.ID != 0 {
		if cur, gerr := h.API.Rules.Get(c.Request.Context(), f.ID); gerr == nil {
			d.Current = &cur
		}
	}
	h.renderRule(c, http.StatusOK, d)
}
