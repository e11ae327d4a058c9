package consoleweb

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/domain"
)

const defaultLang = "zh-CN"

// lang is one language of the console: its messages and how it writes
// numbers, money and times.
type lang struct {
	Code string
	msgs map[string]string
}

var languages = func() map[string]*lang {
	zh, en := &lang{Code: "zh-CN", msgs: map[string]string{}}, &lang{Code: "en", msgs: map[string]string{}}
	for key, pair := range messages {
		zh.msgs[key], en.msgs[key] = pair[0], pair[1]
	}
	return map[string]*lang{zh.Code: zh, en.Code: en}
}()

// T is the message key in l, formatted with args; an unknown key shows
// itself, so a missing translation is visible rather than blank.
func (l *lang) T(key string, args ...any) string {
	s, ok := l.msgs[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

func (h *Handlers) lang(c *gin.Context) *lang {
	if v, err := c.Cookie(langCookie); err == nil {
		if l, ok := languages[v]; ok {
			return l
		}
	}
	return languages[defaultLang]
}

// grouped writes n with thousands separators (1,234,567), as both
// Chinese and English readers expect in a console.
func grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Points: "1,234" (the unit is in the column's heading).
func (l *lang) Points(n int64) string { return grouped(n) }

// Compact writes a large number short, for a chart's axis: in Chinese by
// 万 (10⁴) and 亿 (10⁸), as Chinese readers count ("12.5万"), in English
// by K, M and B.
func (l *lang) Compact(n int64) string {
	units := zhUnits
	if l.Code == "en" {
		units = enUnits
	}
	for _, u := range units {
		if n >= u.size || n <= -u.size {
			s := strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64)
			return strings.TrimSuffix(s, ".0") + u.name
		}
	}
	return grouped(n)
}

type unit struct {
	size int64
	name string
}

var (
	zhUnits = []unit{{1e8, "亿"}, {1e4, "万"}}
	enUnits = []unit{{1e9, "B"}, {1e6, "M"}, {1e3, "K"}}
)

// Percent writes basis points (1/10000) as a percentage: 1250 → "12.50%".
// Negative shares keep one sign: -150 → "-1.50%".
func (l *lang) Percent(basis int64) string {
	sign := ""
	if basis < 0 {
		sign, basis = "-", -basis
	}
	return fmt.Sprintf("%s%d.%02d%%", sign, basis/100, basis%100)
}

// ShortPercent writes basis points as a percentage without trailing
// zeros, for a chart's axis: 2500 → "25%", 250 → "2.5%", 0 → "0%".
func (l *lang) ShortPercent(basis int64) string {
	s := strings.TrimSuffix(l.Percent(basis), "%")
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".") + "%"
}

// Signed points for journal deltas: "+200", "-50".
func (l *lang) Signed(n int64) string {
	if n > 0 {
		return "+" + grouped(n)
	}
	return grouped(n)
}

// Yuan writes fen as yuan: "¥1,234.50".
func (l *lang) Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%s.%02d", sign, grouped(fen/100), fen%100)
}

// Factor writes a per-mille factor as a decimal: 1500 → "1.5".
func (l *lang) Factor(perMille int64) string {
	s := strconv.FormatInt(perMille/1000, 10)
	if f := perMille % 1000; f != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", f), "0")
	}
	return s
}

// Time is an instant in Asia/Shanghai, minutes precision.
func (l *lang) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(domain.Shanghai).Format("2006-01-02 15:04")
}

// Date is the Asia/Shanghai calendar day of t.
func (l *lang) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(domain.Shanghai).Format("2006-01-02")
}

// messages: key → {zh-CN, en}.
var messages = map[string][2]string{
	"app.name":          {"积分后台", "Points console"},
	"nav.members":       {"会员", "Members"},
	"nav.signout":       {"退出", "Sign out"},
	"nav.lang":          {"English", "中文"},
	"role.admin":        {"管理员", "admin"},
	"role.marketer":     {"运营", "marketer"},
	"role.auditor":      {"审计", "auditor"},
	"login.title":       {"登录", "Sign in"},
	"login.username":    {"用户名", "Username"},
	"login.password":    {"密码", "Password"},
	"login.submit":      {"登录", "Sign in"},
	"login.wrong":       {"用户名或密码错误", "Wrong username or password"},
	"login.unsaved":     {"登录已过期，刚才提交的内容没有保存。请重新登录，再回到该页面提交。", "Your session had ended, so what you sent was not saved. Sign in and send it again from the page."},
	"search.title":      {"查找会员", "Find a member"},
	"search.by":         {"按", "By"},
	"search.q":          {"关键词", "Search for"},
	"search.from":       {"注册起", "Registered from"},
	"search.to":         {"注册止", "Registered to"},
	"search.submit":     {"查找", "Search"},
	"search.none":       {"没有找到会员", "No member found"},
	"search.hint":       {"手机尾号可加注册日期缩小范围", "Narrow the last 4 digits with registration days"},
	"by.id":             {"会员号", "Member id"},
	"by.phone":          {"手机号", "Phone"},
	"by.phone_last4":    {"手机尾号", "Phone, last 4 digits"},
	"by.nickname":       {"昵称", "Nickname"},
	"by.openid":         {"openid", "openid"},
	"by.unionid":        {"unionid", "unionid"},
	"member.id":         {"会员号", "Member id"},
	"member.nickname":   {"昵称", "Nickname"},
	"member.phone":      {"手机", "Phone"},
	"member.registered": {"注册时间", "Registered"},
	"member.active":     {"最近活跃", "Last active"},
	"member.title":      {"会员 %d", "Member %d"},
	"member.birthday":   {"生日", "Birthday"},
	"balance.title":     {"积分余额", "Points balance"},
	"balance.available": {"可用", "Available"},
	"balance.pending":   {"待生效", "Pending"},
	"balance.held":      {"冻结", "Held"},
	"balance.debt":      {"欠分", "Debt"},
	"balance.lifetime":  {"累计获得", "Lifetime earned"},
	"lots.title":        {"积分批次（按到期先后）", "Lots (first to expire first)"},
	"lots.amount":       {"获得", "Earned"},
	"lots.remaining":    {"剩余", "Remaining"},
	"lots.expires":      {"到期日", "Expires"},
	"lots.earned":       {"获得时间", "Earned at"},
	"lots.none":         {"没有可用积分", "No available points"},
	"journal.title":     {"积分流水", "Journal"},
	"journal.time":      {"时间", "Time"},
	"journal.kind":      {"类型", "Kind"},
	"journal.delta":     {"变动", "Change"},
	"journal.after":     {"变动后", "Balance after"},
	"journal.what":      {"说明", "Details"},
	"journal.more":      {"加载更多", "Load more"},
	"journal.none":      {"暂无流水", "No entries yet"},
	"kind.earn":         {"获得", "earn"},
	"kind.spend":        {"消费", "spend"},
	"kind.hold":         {"冻结", "hold"},
	"kind.capture":      {"扣除", "capture"},
	"kind.release":      {"解冻", "release"},
	"kind.expire":       {"过期", "expire"},
	"kind.reverse":      {"退款扣回", "reversal"},
	"kind.adjust":       {"人工调整", "adjustment"},
	"tier.title":        {"会员等级", "Tier"},
	"tier.growth":       {"成长值 %s", "Growth %s"},
	"tier.next":         {"距 %s 还差 %s", "%[2]s more to reach %[1]s"},
	"signin.title":      {"签到日历 %s", "Sign-ins %s"},
	"signin.streak":     {"连续签到 %d 天", "%d-day streak"},
	"referral.title":    {"邀请", "Referrals"},
	"referral.code":     {"邀请码", "Invite code"},
	"referral.level1":   {"直接邀请", "Invited"},
	"referral.level2":   {"间接邀请", "Second level"},
	"referral.earned":   {"邀请奖励积分", "Points from invites"},
	"guide.title":       {"专属导购", "Shop guide"},
	"guide.none":        {"未绑定导购", "No guide bound"},
	"guide.bound":       {"%s（门店 %d），%s 绑定", "%s (store %d), bound %s"},
	"audit.title":       {"操作记录", "Audit trail"},
	"risk.title":        {"风控", "Risk control"},
	"risk.held":         {"消费已冻结（仍可获得积分）", "Spends on hold (earning goes on)"},
	"risk.none":         {"无风控标记", "No risk flags"},
	"risk.rule":         {"规则", "Rule"},
	"risk.evidence":     {"证据", "Evidence"},
	"risk.status":       {"状态", "Status"},
	"audit.actor":       {"操作人", "Actor"},
	"audit.action":      {"操作", "Action"},
	"audit.detail":      {"详情", "Detail"},
	"audit.none":        {"暂无操作记录", "Nothing recorded"},
	"audit.target":      {"对象", "Target"},
	"audit.from":        {"起始日期", "From"},
	"audit.to":          {"截止日期", "To"},
	"audit.action_hint": {"如 points.adjust；以 . 结尾按前缀，如 rule.", "e.g. points.adjust; ending in . a prefix, e.g. rule."},
	"audit.filter":      {"筛选", "Filter"},
	"audit.clear":       {"清除筛选", "Clear"},
	"nav.audit":         {"操作日志", "Audit log"},
	"journal.export":    {"导出 CSV", "Export CSV"},
	"adjust.title":      {"调整积分", "Adjust points"},
	"adjust.delta":      {"积分（负数为扣减）", "Points (negative to deduct)"},
	"adjust.reason":     {"原因", "Reason"},
	"adjust.submit":     {"确认调整", "Adjust"},
	"adjust.done":       {"已调整 %s 积分，可用余额 %s", "Adjusted %s points; available now %s"},
	"adjust.readonly":   {"审计角色只读，不能调整积分", "The auditor role reads only"},
	"error.title":       {"出错了", "Something went wrong"},
	"error.back":        {"返回", "Back"},
	"error.request":     {"请求编号", "Request id"},
	"login.locked":      {"登录失败次数过多，请 %s 秒后再试", "Too many failed sign-ins; try again in %s s"},
	// What an error's status means, above its message.
	"http.400": {"提交的内容有误", "Something in the request is wrong"},
	"http.401": {"需要登录", "Sign in first"},
	"http.403": {"不允许", "Not allowed"},
	"http.404": {"页面不存在", "Not found"},
	"http.405": {"不支持此操作", "Not supported here"},
	"http.409": {"与当前状态冲突", "In conflict with the current state"},
	"http.413": {"提交的内容过大", "Too large"},
	"http.422": {"无法执行", "Cannot be done"},
	"http.429": {"操作过于频繁，请稍后再试", "Too many requests; wait a moment"},
	"http.500": {"服务器出错", "Server error"},
	"http.503": {"服务暂时不可用，请稍后再试", "Unavailable for a moment; try again"},
	// The console's own error messages (their keys are the messages of
	// the errors it makes; problems words them in the page's language).
	"problem.form":          {"表单有误", "the form is not valid"},
	"problem.yuan":          {"以元为单位的金额，最多两位小数", "an amount in yuan, at most two decimals"},
	"problem.whole":         {"须为整数", "a whole number"},
	"problem.datetime":      {"日期时间，格式 YYYY-MM-DD HH:MM", "a date and time, YYYY-MM-DD HH:MM"},
	"problem.time_span":     {"日期时间须在 0001-01-02 至 9999-12-31 之间", "a date and time from 0001-01-02 to 9999-12-31"},
	"problem.whole_points":  {"积分须为整数", "a whole number of points"},
	"problem.no_key":        {"表单缺少提交编号，请刷新页面后重新提交", "the form has no key; reload the page and send it again"},
	"problem.pending":       {"该表单已提交，仍在保存中；请稍后刷新页面查看", "this form was sent already and is still being saved; reload the page in a moment"},
	"problem.rule_status":   {"须为 active 或 inactive", "must be active or inactive"},
	"problem.version":       {"必填：页面上显示的版本", "required: the version shown"},
	"problem.rule_deleted":  {"该规则已删除", "this rule is deleted"},
	"problem.sim_order":     {"订单需要金额或商品行", "an order needs an amount or lines"},
	"problem.store_ids":     {"门店编号须为整数", "store ids are whole numbers"},
	"problem.once_or_cron":  {"定时与 cron 表达式只能填一个", "either once at a time or a cron expression, not both"},
	"problem.unreadable":    {"无法读取表单", "the form could not be read"},
	"problem.csrf":          {"表单的安全令牌缺失或已过期，请刷新页面后重试", "the form's security token is missing or stale; reload the page and try again"},
	"problem.cross_origin":  {"拒绝跨站请求", "cross-origin request refused"},
	"problem.utf8":          {"须为 UTF-8 文本", "must be UTF-8 text"},
	"problem.writers":       {"此操作需要以下角色之一：%s", "this action needs one of the roles %s"},
	"common.none":           {"—", "—"},
	"common.points_unit":    {"积分", "points"},
	"common.yes":            {"是", "yes"},
	"common.no":             {"否", "no"},
	"common.signed_in_as":   {"%s（%s）", "%s (%s)"},
	"members.results_count": {"找到 %d 位会员", "%d members found"},
	"common.all":            {"全部", "all"},
	"common.yuan":           {"元", "yuan"},

	"nav.rules":              {"积分规则", "Earning rules"},
	"rules.title":            {"积分规则", "Earning rules"},
	"rule.new":               {"新建规则", "New rule"},
	"rule.title":             {"规则 %d", "Rule %d"},
	"rule.none":              {"没有规则", "No rules"},
	"rule.id":                {"编号", "Id"},
	"rule.name":              {"名称", "Name"},
	"rule.trigger":           {"触发事件", "Trigger"},
	"rule.effect":            {"奖励", "Effect"},
	"rule.priority":          {"优先级", "Priority"},
	"rule.stacking":          {"叠加", "Stacking"},
	"rule.validity":          {"有效期", "Valid"},
	"rule.valid_from":        {"生效时间", "Valid from"},
	"rule.valid_to":          {"失效时间（不含）", "Valid until (exclusive)"},
	"rule.status":            {"状态", "Status"},
	"rule.status.current":    {"未删除", "not deleted"},
	"rule.version":           {"版本", "Version"},
	"rule.updated":           {"更新时间", "Updated"},
	"rule.activate":          {"启用", "Activate"},
	"rule.deactivate":        {"停用", "Deactivate"},
	"rule.basics":            {"基本信息", "Basics"},
	"rule.kind":              {"类型", "Kind"},
	"rule.points":            {"积分（固定/加赠）", "Points (fixed, bonus)"},
	"rule.per_mille":         {"倍数‰（1500 = ×1.5）", "Multiplier ‰ (1500 = ×1.5)"},
	"rule.bracket_from":      {"金额从（元）", "From (yuan)"},
	"rule.bracket_to":        {"到（元，空为不限）", "To (yuan, blank: no limit)"},
	"rule.bracket_rate":      {"每元积分‰（1000 = 1 分/元）", "Per yuan ‰ (1000 = 1 point/yuan)"},
	"rule.effect_hint":       {"按比例：每个金额区间按其比例计分；固定、加赠只用积分；倍数只用倍数‰。", "Rate: each amount bracket earns at its rate; fixed and bonus use points; multiplier uses ‰ only."},
	"rule.conditions":        {"条件（空为不限）", "Conditions (blank: any)"},
	"rule.min_amount":        {"订单金额至少（元）", "Order at least (yuan)"},
	"rule.max_amount":        {"订单金额至多（元）", "Order at most (yuan)"},
	"rule.categories":        {"商品类目（逗号分隔）", "Categories (comma separated)"},
	"rule.tiers":             {"会员等级", "Tiers"},
	"rule.stores":            {"门店", "Stores"},
	"rule.channels":          {"下单渠道", "Order channels"},
	"rule.dates":             {"日期", "Dates"},
	"rule.codes":             {"事件代码（任务、分享…）", "Event codes (task, share…)"},
	"rule.weekdays":          {"星期", "Weekdays"},
	"rule.nth_order":         {"第 N 单", "Exactly the Nth order"},
	"rule.every_nth_order":   {"每 N 单", "Every Nth order"},
	"rule.orders_in_week":    {"本周第 N 单", "Nth order this week"},
	"rule.min_streak":        {"连续签到至少（天）", "Sign-in streak at least (days)"},
	"rule.first_purchase":    {"首单", "First purchase"},
	"rule.birthday_month":    {"生日月", "Birthday month"},
	"rule.caps":              {"上限与预算", "Caps and budget"},
	"rule.cap_day":           {"每人每日", "Per member per day"},
	"rule.cap_week":          {"每人每周", "Per member per week"},
	"rule.cap_month":         {"每人每月", "Per member per month"},
	"rule.budget":            {"总预算（积分）", "Budget pool (points)"},
	"rule.budget_left":       {"预算剩余 %s / %s", "budget left %s of %s"},
	"rule.save":              {"保存", "Save"},
	"rule.saved":             {"已保存为第 %d 版", "Saved as version %d"},
	"rule.current":           {"当前第 %d 版，%s，更新于 %s", "Version %d, %s, updated %s"},
	"rule.readonly":          {"审计角色只读，不能修改规则", "The auditor role reads only"},
	"rule.simulate":          {"试算", "Simulate"},
	"rule.simulate_hint":     {"按左侧草稿（未保存也可）加上其他已启用规则计算，不写入任何数据。", "Runs the draft on the left (saved or not) with the other active rules; writes nothing."},
	"rule.simulate_submit":   {"试算", "Simulate"},
	"rule.draft":             {"草稿", "draft"},
	"sim.total":              {"订单金额（元）", "Order amount (yuan)"},
	"sim.at":                 {"时间（空为现在）", "At (blank: now)"},
	"sim.line_category":      {"明细类目", "Line category"},
	"sim.line_amount":        {"明细金额（元）", "Line amount (yuan)"},
	"sim.store":              {"门店", "Store"},
	"sim.channel":            {"渠道", "Channel"},
	"sim.tier":               {"会员等级", "Member tier"},
	"sim.paid_orders":        {"含本单已付订单数", "Paid orders incl. this one"},
	"sim.birthday":           {"生日", "Birthday"},
	"sim.code":               {"事件代码", "Event code"},
	"sim.streak":             {"连续签到天数", "Sign-in streak"},
	"sim.nothing":            {"不得积分", "Earns nothing"},
	"sim.total_points":       {"合计", "Total"},
	"trigger.order_paid":     {"订单支付", "order paid"},
	"trigger.first_purchase": {"首单", "first purchase"},
	"trigger.recharge":       {"充值", "recharge"},
	"trigger.signin":         {"签到", "sign-in"},
	"trigger.task":           {"任务", "task"},
	"trigger.referral":       {"邀请", "referral"},
	"trigger.review":         {"评价", "review"},
	"trigger.share":          {"分享", "share"},
	"trigger.birthday":       {"生日", "birthday"},
	"trigger.anniversary":    {"入会周年", "anniversary"},
	"kind.rate":              {"按比例", "rate"},
	"kind.fixed":             {"固定", "fixed"},
	"kind.multiplier":        {"倍数", "multiplier"},
	"kind.bonus":             {"加赠", "bonus"},
	"kind.hint.rate":         {"按金额区间每元计分", "points per yuan by bracket"},
	"kind.hint.fixed":        {"固定积分", "a fixed number of points"},
	"kind.hint.multiplier":   {"翻倍（等级、双倍日）", "scales the points so far (tier, double days)"},
	"kind.hint.bonus":        {"倍数之后加赠", "added after multipliers"},
	"status.active":          {"启用", "active"},
	"status.inactive":        {"停用", "inactive"},
	"status.deleted":         {"已删除", "deleted"},
	"stacking.stackable":     {"可叠加", "stackable"},
	"stacking.exclusive":     {"排他", "exclusive"},
	"limited.cap_day":        {"达每日上限", "daily cap"},
	"limited.cap_week":       {"达每周上限", "weekly cap"},
	"limited.cap_month":      {"达每月上限", "monthly cap"},
	"limited.budget":         {"预算不足", "budget"},
	"limited.floor":          {"不低于 0", "floored at 0"},
	"weekday.1":              {"一", "Mon"},
	"weekday.2":              {"二", "Tue"},
	"weekday.3":              {"三", "Wed"},
	"weekday.4":              {"四", "Thu"},
	"weekday.5":              {"五", "Fri"},
	"weekday.6":              {"六", "Sat"},
	"weekday.7":              {"日", "Sun"},

	"nav.campaigns":                 {"提醒活动", "Campaigns"},
	"campaigns.title":               {"提醒活动", "Reminder campaigns"},
	"campaign.new":                  {"新建活动", "New campaign"},
	"campaign.title":                {"活动 %d", "Campaign %d"},
	"campaign.none":                 {"还没有活动", "No campaigns yet"},
	"campaign.name":                 {"活动名称", "Name"},
	"campaign.schedule":             {"发送时间", "Schedule"},
	"campaign.next_run":             {"下次运行", "Next run"},
	"campaign.runs":                 {"已运行", "Runs"},
	"campaign.created_by":           {"创建人", "Created by"},
	"campaign.state":                {"第 %d 版，%s 创建，已运行 %d 次", "version %d, created by %s, %d runs"},
	"campaign.basics":               {"基本信息", "Basics"},
	"campaign.audience":             {"人群", "Audience"},
	"campaign.expiring_within_days": {"N 天内有积分到期", "Points expiring within N days"},
	"campaign.min_points":           {"积分至少", "With at least M points"},
	"campaign.tiers":                {"会员等级（不选为全部）", "Tiers (none: all)"},
	"campaign.store_ids":            {"门店编号", "Store ids"},
	"campaign.inactive_since_days":  {"N 天未活跃", "Inactive for N days"},
	"campaign.audience_hint":        {"设了到期天数时，积分指将到期的积分；否则指可用余额。空为不限。", "With expiring days, points are those expiring; otherwise the available balance. Blank: any."},
	"campaign.channels":             {"渠道（按顺序尝试）", "Channels (tried in order)"},
	"campaign.channel_n":            {"第 %d 渠道", "Channel %d"},
	"campaign.channel":              {"渠道", "Channel"},
	"campaign.templates":            {"消息模板", "Templates"},
	"campaign.template_default":     {"默认", "default"},
	"campaign.variables":            {"模板变量", "Template variables"},
	"campaign.var_name":             {"变量名", "Name"},
	"campaign.var_value":            {"值", "Value"},
	"campaign.variables_hint":       {"昵称、积分、到期日等按会员自动填写。", "Nickname, points and expiry are filled per member."},
	"campaign.once_at":              {"单次发送时间", "Once at"},
	"campaign.cron":                 {"或 cron（分 时 日 月 周，北京时间）", "or cron (m h dom mon dow, Asia/Shanghai)"},
	"campaign.quiet_hours":          {"免打扰时段（空为无）", "Quiet hours (blank: none)"},
	"campaign.holdout":              {"对照组（‰，0–500，随机留出不发送）", "Holdout (‰ of the audience left out at random, 0–500)"},
	"campaign.effect":               {"提醒效果（7 天内下单或兑换）", "Effect (ordered or redeemed within 7 days)"},
	"campaign.effect_since":         {"自 %s 起的触达", "reaches since %s"},
	"campaign.effect_group":         {"分组", "Group"},
	"campaign.effect_members":       {"人数", "Members"},
	"campaign.effect_converted":     {"转化", "Converted"},
	"campaign.effect_share":         {"转化率", "Share"},
	"campaign.effect_reached":       {"已触达", "Reached"},
	"campaign.effect_holdout":       {"对照组", "Held out"},
	"campaign.effect_diff":          {"差值（95%% 置信区间 %s 至 %s）", "Difference (95%% interval %s to %s)"},
	"campaign.effect_no_diff":       {"对照组或触达组为空，无法比较", "No comparison: the reached or the held-out group is empty"},
	"campaign.effect_open":          {"另有 %d 人的 7 天窗口尚未结束", "%d more are still inside their 7 days"},
	"campaign.effect_none":          {"尚无触达记录（统计任务每隔几分钟汇总一次）", "No reach recorded yet (the analytics job adds them every few minutes)"},
	"campaign.throttle":             {"每分钟发送上限", "Sends per minute"},
	"campaign.save":                 {"保存", "Save"},
	"campaign.create":               {"创建草稿", "Create draft"},
	"campaign.readonly":             {"审计角色只读，不能修改活动", "The auditor role reads only"},
	"campaign.dry_run":              {"预演", "Dry run"},
	"campaign.dry_run_result":       {"预演结果（未发送）", "Dry run (nothing sent)"},
	"campaign.audience_count":       {"目标人数", "Audience"},
	"campaign.to":                   {"发送至", "To"},
	"campaign.sample":               {"消息示例", "Sample message"},
	"campaign.schedule_now":         {"排期", "Schedule"},
	"campaign.pause":                {"暂停", "Pause"},
	"campaign.cancel":               {"取消活动", "Cancel"},
	"campaign.report":               {"发送报告", "Delivery report"},
	"campaign.report_total":         {"共 %d 条", "%d messages"},
	"campaign.errcodes":             {"失败原因（errcode）", "Failures by errcode"},
	"campaign.no_failures":          {"没有失败", "No failures"},
	"campaign.failures":             {"失败示例", "Failed deliveries"},
	"campaign.count":                {"条数", "Count"},
	"campaign.done.create":          {"已创建草稿", "Draft created"},
	"campaign.done.update":          {"已保存", "Saved"},
	"campaign.done.schedule":        {"已排期", "Scheduled"},
	"campaign.done.pause":           {"已暂停", "Paused"},
	"campaign.done.cancel":          {"已取消", "Cancelled"},
	"cstatus.draft":                 {"草稿", "draft"},
	"cstatus.scheduled":             {"已排期", "scheduled"},
	"cstatus.running":               {"发送中", "running"},
	"cstatus.paused":                {"已暂停", "paused"},
	"cstatus.done":                  {"已完成", "done"},
	"cstatus.cancelled":             {"已取消", "cancelled"},
	"ostatus.sent":                  {"已发送", "sent"},
	"ostatus.failed":                {"失败", "failed"},
	"ostatus.uncertain":             {"不确定", "uncertain"},
	"ostatus.skipped":               {"跳过", "skipped"},
	"ostatus.pending":               {"待发送", "pending"},
	"ostatus.holdout":               {"对照组（未发送）", "held out (not sent)"},
	"channel.subscribe":             {"小程序订阅消息", "subscribe message"},
	"channel.template":              {"公众号模板消息", "official-account template"},
	"channel.wecom":                 {"企业微信（导购）", "WeCom (shop guide)"},
	"channel.robot":                 {"门店群机器人", "store group robot"},
	"channel.none":                  {"无可用渠道", "no channel"},
	"campaign.final":                {"活动已结束，不能再修改", "The campaign has ended and can no longer change"},
	// The dashboard.
	"nav.dashboard":         {"概览", "Dashboard"},
	"dash.title":            {"数据概览", "Dashboard"},
	"dash.range":            {"统计区间 %s 至 %s（北京时间）", "%s to %s (Asia/Shanghai)"},
	"dash.today":            {"今日", "Today"},
	"dash.active":           {"活跃会员", "Active members"},
	"dash.reminders_sent":   {"提醒已发送", "Reminders sent"},
	"dash.by_source":        {"今日发放来源：", "Issued today by source:"},
	"dash.by_source_period": {"近 30 天发放来源：", "Issued in 30 days by source:"},
	"dash.lag":              {"积分数据由统计任务每个调度周期汇总，约有 5 分钟延迟。", "The points figures are summed by the analytics job on every scheduler tick and lag about 5 minutes."},
	"dash.points30":         {"近 30 天积分发放、消耗与过期", "Points issued, spent and expired, last 30 days"},
	"dash.fact":             {"指标", "Figure"},
	"dash.today_col":        {"今日", "Today"},
	"dash.period_col":       {"近 30 天", "30 days"},
	"dash.liability":        {"未兑付积分（品牌负债）", "Outstanding points (the brand's liability)"},
	"dash.outstanding":      {"未兑付积分", "Outstanding"},
	"dash.value":            {"折合金额", "Worth"},
	"dash.snapshot":         {"快照日期 %s；可用 + 待生效 + 冻结 − 欠分", "Snapshot of %s; available + pending + held − debt"},
	"dash.no_tier":          {"无等级", "no tier"},
	"dash.expiring":         {"未来 12 个月每月到期的可用积分", "Available points expiring in each of the next 12 months"},
	"dash.no_snapshot":      {"尚无快照：统计任务还未运行（jifen analytics 或 serve 的调度）。", "No snapshot yet: the analytics job has not run (jifen analytics, or serve's scheduler)."},
	"dash.active30":         {"近 30 天每日活跃会员", "Active members per day, last 30 days"},
	"dash.active_note":      {"会员本人下单、签到、做任务、抽奖、兑换或抵现即为活跃；后台调整和导购赠分不算。峰值 %s 人。", "A member is active on a day they ordered, signed in, did a task, drew, redeemed or paid with points; console and guide grants do not count. Peak: %s."},
	"dash.reminders":        {"近 30 天提醒发送结果", "Reminder outcomes, last 30 days"},
	"dash.outcome":          {"结果", "Outcome"},
	"dash.total":            {"合计", "Total"},
	"dash.effect":           {"近 30 天提醒活动效果：7 天内下单或兑换的比例，已触达 vs 对照组", "Campaign effect, last 30 days: share who ordered or redeemed within 7 days, reached vs held out"},
	"dash.effect_campaign":  {"活动", "Campaign"},
	"dash.effect_diff":      {"差值（95% 置信区间）", "Difference (95% interval)"},
	"dash.effect_open":      {"窗口未结束", "Still open"},
	"dash.effect_note":      {"按触达日期统计最近 8 个活动；差值的区间包含 0 时，无法把效果与偶然区分开。7 天窗口未结束且尚未转化的会员不计入两组。", "The 8 most recent campaigns, by day of reach. An interval that contains 0 cannot tell the effect from chance. Members still inside their 7 days who have not converted are in neither group."},
	"dash.effect_none":      {"近 30 天没有提醒活动的触达记录。", "No campaign reached or held out anyone in the last 30 days."},
	"dash.reminders_note":   {"含所有提醒活动和自动到期提醒，按最后一次发送尝试的日期统计。", "Every campaign and the automatic expiry reminders, counted on the day of their last attempt."},
	"fact.issued":           {"发放", "Issued"},
	"fact.spent":            {"消耗", "Spent"},
	"fact.expired":          {"过期", "Expired"},
	"fact.clawed_back":      {"退款扣回", "Clawed back"},
	"fact.returned":         {"退还", "Returned"},
	"series.active":         {"活跃会员", "active members"},
	"series.expiring":       {"到期积分", "points expiring"},
	"series.sent":           {"已发送", "sent"},
	"series.failed":         {"失败", "failed"},
	"series.uncertain":      {"不确定", "uncertain"},
	"source.orders":         {"订单", "orders"},
	"source.signin":         {"签到", "sign-in"},
	"source.tasks":          {"任务", "tasks"},
	"source.lottery":        {"抽奖", "lottery"},
	"source.referral":       {"邀请", "referrals"},
	"source.birthday":       {"生日", "birthday"},
	"source.console":        {"后台调整", "console"},
	"source.guide_grants":   {"导购赠分", "guide grants"},
	"source.other":          {"其他", "other"},
	// The lottery.
	"nav.lottery":              {"抽奖", "Lottery"},
	"lottery.list":             {"抽奖活动", "Lottery campaigns"},
	"lottery.title":            {"抽奖：%s", "Lottery: %s"},
	"lottery.none":             {"还没有抽奖活动", "No lottery campaign yet"},
	"lottery.name":             {"名称", "Name"},
	"lottery.window":           {"活动时间", "Runs"},
	"lottery.cost":             {"每次消耗积分", "Points per draw"},
	"lottery.free":             {"免费", "free"},
	"lottery.free_per_day":     {"每日免费次数", "Free draws a day"},
	"lottery.limit_daily":      {"每人每日上限", "Draws per member a day"},
	"lottery.limit_total":      {"每人总上限", "Draws per member in all"},
	"lottery.no_limit":         {"不限", "no limit"},
	"lottery.pity_after":       {"保底", "Pity"},
	"lottery.pity":             {"连续 %d 次未中奖后必中", "a win after %d misses in a row"},
	"lottery.off":              {"关闭", "off"},
	"lottery.consolation":      {"安慰奖", "Consolation"},
	"lottery.miss":             {"未中奖", "a miss"},
	"lottery.rules":            {"活动规则", "Rules"},
	"lottery.stats":            {"抽奖统计", "Draw statistics"},
	"lottery.draws":            {"抽奖次数", "Draws"},
	"lottery.members":          {"参与会员", "Members who drew"},
	"lottery.free_draws":       {"免费抽奖", "Free draws"},
	"lottery.points_spent":     {"消耗积分", "Points spent"},
	"lottery.paid":             {"付费抽奖 %s 次", "%s paid draws"},
	"lottery.prizes":           {"奖品（权重、库存与已中出）", "Prizes (weights, stock and won)"},
	"lottery.prize":            {"奖品", "Prize"},
	"lottery.kind":             {"类型", "Kind"},
	"lottery.weight":           {"权重", "Weight"},
	"lottery.chance":           {"概率", "Chance"},
	"lottery.stock":            {"库存", "Stock"},
	"lottery.won":              {"已中出", "Won"},
	"lottery.left":             {"剩余", "Left"},
	"lottery.per_member":       {"每人限中", "Per member"},
	"lottery.prize_draws":      {"抽中次数", "Drawn"},
	"lottery.pity_draws":       {"其中保底", "Of them by pity"},
	"lottery.unlimited":        {"不限", "unlimited"},
	"lottery.consolation_note": {"所抽奖品无库存或超出每人限中时发放（未设安慰奖则不中奖）", "given when the drawn prize is out of stock or over its per-member limit (a miss without a consolation)"},
	"lottery.edit_api":         {"修改活动和奖品暂时通过 JSON 接口（PUT /api/v1/console/lottery/campaigns/{id}，…/prizes/{prize_id}）。", "Campaigns and prizes are edited through the JSON API for now (PUT /api/v1/console/lottery/campaigns/{id}, …/prizes/{prize_id})."},
	"pkind.points":             {"积分", "points"},
	"pkind.coupon":             {"优惠券", "coupon"},
	"pkind.gift":               {"实物", "gift"},
	"pkind.nothing":            {"谢谢参与", "nothing"},
	// Tasks, tiers and the referral report.
	"nav.tasks":                     {"任务", "Tasks"},
	"nav.tiers":                     {"等级", "Tiers"},
	"nav.referrals":                 {"邀请", "Referrals"},
	"tasks.title":                   {"积分任务", "Tasks"},
	"tasks.task":                    {"任务", "Task"},
	"tasks.type":                    {"类型", "Type"},
	"tasks.period":                  {"周期", "Period"},
	"tasks.target":                  {"目标次数", "Target"},
	"tasks.reward":                  {"奖励积分", "Reward"},
	"tasks.valid":                   {"有效期", "Valid"},
	"tasks.status":                  {"状态", "Status"},
	"tasks.none":                    {"还没有任务", "No task yet"},
	"tasks.edit_api":                {"新建和修改任务暂时通过 JSON 接口（POST /api/v1/console/tasks，PUT …/tasks/{id}）。", "Tasks are created and edited through the JSON API for now (POST /api/v1/console/tasks, PUT …/tasks/{id})."},
	"ttype.browse":                  {"浏览页面", "browse a page"},
	"ttype.share":                   {"分享", "share"},
	"ttype.review":                  {"评价", "review"},
	"ttype.profile_complete":        {"完善资料", "complete the profile"},
	"ttype.follow_official_account": {"关注公众号", "follow the official account"},
	"tperiod.once":                  {"一次性", "once"},
	"tperiod.daily":                 {"每日", "daily"},
	"tperiod.weekly":                {"每周", "weekly"},
	"tstatus.active":                {"进行中", "active"},
	"tstatus.paused":                {"已暂停", "paused"},
	"tstatus.deleted":               {"已删除", "deleted"},
	"tiers.title":                   {"会员等级", "Tiers"},
	"tiers.code":                    {"代码", "Code"},
	"tiers.name":                    {"名称", "Name"},
	"tiers.growth":                  {"所需成长值（实付金额）", "Growth to reach (paid)"},
	"tiers.price":                   {"积分购买价", "Price in points"},
	"tiers.not_for_sale":            {"不可购买", "not for sale"},
	"tiers.benefits":                {"权益", "Benefits"},
	"tiers.note":                    {"等级在配置文件 tiers.levels 中设置；会员成长值为实付金额（退款扣减），每年复核一次。", "Levels are set in the configuration (tiers.levels); growth is the amount paid net of refunds, reviewed yearly."},
	"referrals.title":               {"邀请报告", "Referral report"},
	"referrals.top":                 {"邀请排行（前 %d）", "Top inviters (first %d)"},
	"referrals.rank":                {"排名", "Rank"},
	"referrals.invites":             {"邀请人数", "Invited"},
	"referrals.points":              {"邀请所得积分", "Points from invites"},
	"referrals.none":                {"还没有邀请", "No invitation yet"},
	"referrals.flagged":             {"待复核的邀请", "Invitations flagged for review"},
	"referrals.invitee":             {"被邀请人", "Invitee"},
	"referrals.inviter":             {"邀请人", "Inviter"},
	"referrals.note":                {"原因", "Why"},
	"referrals.bound_at":            {"绑定时间", "Bound"},
	"referrals.none_flagged":        {"没有待复核的邀请", "Nothing flagged"},
	// Guides and stores.
	"nav.guides":         {"导购与门店", "Guides & stores"},
	"guides.title":       {"导购与门店", "Guides and stores"},
	"guides.stores":      {"门店", "Stores"},
	"guides.store_name":  {"门店名称", "Store name"},
	"guides.robot":       {"群机器人 key", "Group robot key"},
	"guides.robot_set":   {"已设置", "set"},
	"guides.robot_none":  {"未设置", "not set"},
	"guides.robot_keep":  {"留空不变", "blank: keep"},
	"guides.edit":        {"修改", "Edit"},
	"guides.save":        {"保存", "Save"},
	"guides.no_stores":   {"还没有门店", "No store yet"},
	"guides.new_store":   {"新建门店", "Add a store"},
	"guides.guides":      {"导购（%s 月预算使用）", "Shop guides (budgets used in %s)"},
	"guides.userid":      {"企业微信 userid", "WeCom userid"},
	"guides.name":        {"姓名", "Name"},
	"guides.store":       {"门店", "Store"},
	"guides.code":        {"导购码", "Code"},
	"guides.budget":      {"月度预算（积分）", "Monthly budget (points)"},
	"guides.phone":       {"导购本人手机号（选填）", "Guide's own phone (optional)"},
	"guides.used":        {"本月已赠", "Granted this month"},
	"guides.left":        {"剩余", "Left"},
	"guides.use":         {"使用率", "Used"},
	"guides.no_guides":   {"还没有导购", "No guide yet"},
	"guides.new_guide":   {"新建导购", "Add a guide"},
	"guides.store_saved": {"门店已保存", "Store saved"},
	"guides.guide_saved": {"导购已保存", "Guide saved"},
	"guides.note":        {"预算按上海时间自然月计算，每月 1 日重置；停用的导购不能登录或赠分。", "Budgets run by Asia/Shanghai calendar month and reset on the 1st; a disabled guide can neither sign in nor grant."},
	"gstatus.active":     {"在职", "active"},
	"gstatus.disabled":   {"已停用", "disabled"},
	// CSV exports.
	"ostatus.claimed":     {"发送中", "sending"},
	"ostatus.sending":     {"发送中", "sending"},
	"export.members":      {"导出全部会员（CSV）", "Export all members (CSV)"},
	"export.run":          {"批次", "Run"},
	"export.channel":      {"渠道", "Channel"},
	"export.status":       {"状态", "Status"},
	"export.reason":       {"原因", "Reason"},
	"export.attempts":     {"尝试次数", "Attempts"},
	"export.attempted_at": {"最近尝试", "Last attempt"},
	"export.deliveries":   {"导出发送明细（CSV）", "Export deliveries (CSV)"},
}
