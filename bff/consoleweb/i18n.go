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
	"app.name":              {"积分后台", "Points console"},
	"nav.members":           {"会员", "Members"},
	"nav.signout":           {"退出", "Sign out"},
	"nav.lang":              {"English", "中文"},
	"role.admin":            {"管理员", "admin"},
	"role.marketer":         {"运营", "marketer"},
	"role.auditor":          {"审计", "auditor"},
	"login.title":           {"登录", "Sign in"},
	"login.username":        {"用户名", "Username"},
	"login.password":        {"密码", "Password"},
	"login.submit":          {"登录", "Sign in"},
	"login.wrong":           {"用户名或密码错误", "Wrong username or password"},
	"search.title":          {"查找会员", "Find a member"},
	"search.by":             {"按", "By"},
	"search.q":              {"关键词", "Search for"},
	"search.from":           {"注册起", "Registered from"},
	"search.to":             {"注册止", "Registered to"},
	"search.submit":         {"查找", "Search"},
	"search.none":           {"没有找到会员", "No member found"},
	"search.hint":           {"手机尾号可加注册日期缩小范围", "Narrow the last 4 digits with registration days"},
	"by.id":                 {"会员号", "Member id"},
	"by.phone":              {"手机号", "Phone"},
	"by.phone_last4":        {"手机尾号", "Phone, last 4 digits"},
	"by.nickname":           {"昵称", "Nickname"},
	"by.openid":             {"openid", "openid"},
	"by.unionid":            {"unionid", "unionid"},
	"member.id":             {"会员号", "Member id"},
	"member.nickname":       {"昵称", "Nickname"},
	"member.phone":          {"手机", "Phone"},
	"member.registered":     {"注册时间", "Registered"},
	"member.active":         {"最近活跃", "Last active"},
	"member.title":          {"会员 %d", "Member %d"},
	"member.birthday":       {"生日", "Birthday"},
	"balance.title":         {"积分余额", "Points balance"},
	"balance.available":     {"可用", "Available"},
	"balance.pending":       {"待生效", "Pending"},
	"balance.held":          {"冻结", "Held"},
	"balance.debt":          {"欠分", "Debt"},
	"balance.lifetime":      {"累计获得", "Lifetime earned"},
	"lots.title":            {"积分批次（按到期先后）", "Lots (first to expire first)"},
	"lots.amount":           {"获得", "Earned"},
	"lots.remaining":        {"剩余", "Remaining"},
	"lots.expires":          {"到期日", "Expires"},
	"lots.earned":           {"获得时间", "Earned at"},
	"lots.none":             {"没有可用积分", "No available points"},
	"journal.title":         {"积分流水", "Journal"},
	"journal.time":          {"时间", "Time"},
	"journal.kind":          {"类型", "Kind"},
	"journal.delta":         {"变动", "Change"},
	"journal.after":         {"变动后", "Balance after"},
	"journal.what":          {"说明", "Details"},
	"journal.more":          {"加载更多", "Load more"},
	"journal.none":          {"暂无流水", "No entries yet"},
	"kind.earn":             {"获得", "earn"},
	"kind.spend":            {"消费", "spend"},
	"kind.hold":             {"冻结", "hold"},
	"kind.capture":          {"扣除", "capture"},
	"kind.release":          {"解冻", "release"},
	"kind.expire":           {"过期", "expire"},
	"kind.reverse":          {"退款扣回", "reversal"},
	"kind.adjust":           {"人工调整", "adjustment"},
	"tier.title":            {"会员等级", "Tier"},
	"tier.growth":           {"成长值 %s", "Growth %s"},
	"tier.next":             {"距 %s 还差 %s", "%[2]s more to reach %[1]s"},
	"signin.title":          {"签到日历 %s", "Sign-ins %s"},
	"signin.streak":         {"连续签到 %d 天", "%d-day streak"},
	"referral.title":        {"邀请", "Referrals"},
	"referral.code":         {"邀请码", "Invite code"},
	"referral.level1":       {"直接邀请", "Invited"},
	"referral.level2":       {"间接邀请", "Second level"},
	"referral.earned":       {"邀请奖励积分", "Points from invites"},
	"guide.title":           {"专属导购", "Shop guide"},
	"guide.none":            {"未绑定导购", "No guide bound"},
	"guide.bound":           {"%s（门店 %d），%s 绑定", "%s (store %d), bound %s"},
	"audit.title":           {"操作记录", "Audit trail"},
	"audit.actor":           {"操作人", "Actor"},
	"audit.action":          {"操作", "Action"},
	"audit.detail":          {"详情", "Detail"},
	"audit.none":            {"暂无操作记录", "Nothing recorded"},
	"audit.target":          {"对象", "Target"},
	"nav.audit":             {"操作日志", "Audit log"},
	"journal.export":        {"导出 CSV", "Export CSV"},
	"adjust.title":          {"调整积分", "Adjust points"},
	"adjust.delta":          {"积分（负数为扣减）", "Points (negative to deduct)"},
	"adjust.reason":         {"原因", "Reason"},
	"adjust.submit":         {"确认调整", "Adjust"},
	"adjust.done":           {"已调整 %s 积分，可用余额 %s", "Adjusted %s points; available now %s"},
	"adjust.readonly":       {"审计角色只读，不能调整积分", "The auditor role reads only"},
	"error.title":           {"出错了", "Something went wrong"},
	"error.back":            {"返回", "Back"},
	"error.request":         {"请求编号", "Request id"},
	"common.none":           {"—", "—"},
	"common.points_unit":    {"积分", "points"},
	"common.yes":            {"是", "yes"},
	"common.no":             {"否", "no"},
	"common.signed_in_as":   {"%s（%s）", "%s (%s)"},
	"members.results_count": {"找到 %d 位会员", "%d members found"},
}
