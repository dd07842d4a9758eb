namespace PowerService.Grains.Notices;

/// <summary>What happened, from an affected customer's point of view.</summary>
public enum NoticeKind
{
    OutageDetected,
    RestorationEstimateChanged,
    PowerRestored,
    PlannedOutageScheduled,
    PlannedOutageCancelled,
}

/// <summary>One notice about one outage (or planned outage). <paramref name="Revision"/> tells successive notices of the
/// same kind apart (the 2nd ETR change is revision 2); (outage, kind, revision, customer) is sent at most once.</summary>
/// <param name="Temporary">A planned outage of kind Temporary (临时停电: short notice, not the planned calendar).</param>
public sealed record OutageNotice(
    NoticeKind Kind,
    string OutageId,
    int Revision,
    DateTimeOffset At,
    DateTimeOffset? StartsAt = null,
    DateTimeOffset? EstimatedRestorationAt = null,
    string? Cause = null,
    bool Temporary = false,
    bool OtherPlanStands = false)
{
    /// <summary>An outage detected for meters still dark after their area's supply came back (a nested outage): its
    /// customers were told of the area's outage, and this tells them theirs goes on, not that a new one began.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool StillOutAfterArea { get; init; }
}

/// <summary>Who the notice is for: every customer of the listed transformer areas, or, when
/// <paramref name="MeterIds"/> is given, only the customers on those meters (a nested outage).</summary>
/// <param name="ExceptMeterIds">Customers on these meters are left out (of an area's audience).</param>
public sealed record NoticeAudience(IReadOnlyList<string> TransformerAreaIds, IReadOnlyList<string>? MeterIds = null, IReadOnlyList<string>? ExceptMeterIds = null);

/// <summary>Puts one notice per affected customer in the durable outbox; a delivery service sends them through the
/// customer's channel (SMS, app push, WeChat) at least once. Idempotent: enqueueing the same notice again adds nothing,
/// so a grain that crashed between its own write and this call simply calls again.</summary>
public interface INoticeOutbox
{
    /// <summary>Returns how many customer notices were added (0 when all were already there).</summary>
    Task<int> EnqueueAsync(OutageNotice notice, NoticeAudience audience, CancellationToken cancellationToken = default);
}
