using System.Text.Json;
using System.Text.Json.Serialization;

namespace PowerService.Grains.Notices;

/// <summary>What one customer is told: the outbox payload a channel turns into an SMS, a push or a WeChat message.
/// <paramref name="Text"/> is ready to send (Chinese, then English).</summary>
public sealed record CustomerNotice(
    string CustomerId,
    string Channel,
    NoticeKind Kind,
    string OutageId,
    int Revision,
    DateTimeOffset At,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EstimatedRestorationAt,
    string? Cause,
    string Text)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static CustomerNotice FromJson(string json) =>
        JsonSerializer.Deserialize<CustomerNotice>(json, Json) ?? throw new JsonException("A customer notice payload holds null.");

    /// <summary>The message text for <paramref name="notice"/>, times on the customers' clock.</summary>
    public static string TextOf(OutageNotice notice, TimeSpan localOffset)
    {
        var cause = string.IsNullOrWhiteSpace(notice.Cause) ? null : notice.Cause;
        var etr = Local(notice.EstimatedRestorationAt, localOffset);
        var starts = Local(notice.StartsAt, localOffset);
        return notice.Kind switch
        {
            NoticeKind.OutageDetected when notice.StillOutAfterArea =>
                $"【供电服务】您所在区域已恢复供电，但您的供电尚未恢复（{notice.OutageId}）{(cause is null ? "" : $"，原因：{cause}")}{(etr is null ? "，抢修人员正在处理" : $"，预计 {etr} 恢复供电")}。" +
                $" Power is back in your area but not yet at your address ({notice.OutageId}){(cause is null ? "" : $", cause: {cause}")}" +
                $"{(etr is null ? "; crews are working on it" : $"; estimated restoration {etr}")}.",
            NoticeKind.OutageDetected =>
                $"【供电服务】您所在区域停电（{notice.OutageId}）{(cause is null ? "" : $"，原因：{cause}")}{(etr is null ? "，抢修人员正在处理" : $"，预计 {etr} 恢复供电")}。" +
                $" Power outage in your area ({notice.OutageId}){(cause is null ? "" : $", cause: {cause}")}" +
                $"{(etr is null ? "; crews are working on it" : $"; estimated restoration {etr}")}.",
            NoticeKind.RestorationEstimateChanged =>
                $"【供电服务】停电（{notice.OutageId}）预计恢复供电时间调整为 {etr ?? "待定"}{(cause is null ? "" : $"，原因：{cause}")}。" +
                $" Estimated restoration for outage {notice.OutageId} is now {etr ?? "to be confirmed"}{(cause is null ? "" : $" (cause: {cause})")}.",
            NoticeKind.PowerRestored =>
                $"【供电服务】您所在区域已恢复供电（{notice.OutageId}），感谢您的耐心。 Power has been restored in your area ({notice.OutageId}). Thank you for your patience.",
            NoticeKind.PlannedOutageScheduled =>
                $"【供电服务】{(notice.Temporary ? "临时" : "计划")}停电通知（{notice.OutageId}）：{starts ?? "待定"} 起停电{(etr is null ? "" : $"，预计 {etr} 恢复")}{(cause is null ? "" : $"，原因：{cause}")}。" +
                $" {(notice.Temporary ? "Temporary" : "Planned")} outage ({notice.OutageId}) from {starts ?? "a time to be confirmed"}{(etr is null ? "" : $" until about {etr}")}{(cause is null ? "" : $" for {cause}")}.",
            NoticeKind.PlannedOutageCancelled when notice.OtherPlanStands =>
                $"【供电服务】原定 {starts ?? "待定"} 起的{(notice.Temporary ? "临时" : "计划")}停电（{notice.OutageId}）已取消{(cause is null ? "" : $"（{cause}）")}；另行通知的同时段停电仍按通知进行。" +
                $" The {(notice.Temporary ? "temporary" : "planned")} outage ({notice.OutageId}) from {starts ?? "a time to be confirmed"} is cancelled{(cause is null ? "" : $" ({cause})")}; the other outage you were told of for that time still goes ahead.",
            NoticeKind.PlannedOutageCancelled =>
                $"【供电服务】原定 {starts ?? "待定"} 起的{(notice.Temporary ? "临时" : "计划")}停电（{notice.OutageId}）已取消{(cause is null ? "" : $"（{cause}）")}，正常供电。" +
                $" The {(notice.Temporary ? "temporary" : "planned")} outage ({notice.OutageId}) from {starts ?? "a time to be confirmed"} is cancelled{(cause is null ? "" : $" ({cause})")}: your supply stays on.",
            _ => throw new ArgumentOutOfRangeException(nameof(notice), notice.Kind, "Not a notice kind."),
        };
    }

    private static string? Local(DateTimeOffset? at, TimeSpan offset) =>
        at?.ToOffset(offset).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
}
