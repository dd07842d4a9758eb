using System.Text.Json.Serialization;
using PowerService.Grains.WorkOrders;

namespace PowerService.Grains.Sla;

/// <summary>One running or finished promise on an order (persisted with the order). Its moments are precomputed:
/// warning, due (breach, escalation to the grid manager) and second escalation (region supervisor).</summary>
internal sealed record SlaClock(
    string Name,
    SlaBasis Basis,
    TimeSpan Limit,
    SlaMilestone StopsAt,
    DateTimeOffset StartedAt,
    DateTimeOffset WarnAt,
    DateTimeOffset DueAt,
    DateTimeOffset EscalateAt,
    bool Warned = false,
    bool Breached = false,
    bool EscalatedTwice = false,
    DateTimeOffset? PausedAt = null,
    DateTimeOffset? StoppedAt = null,
    SlaClockState? Outcome = null)
{
    [JsonIgnore]
    public bool IsFinished => Outcome is not null;

    /// <summary>The next moment this clock must act, or null when finished, paused or past all of them.</summary>
    [JsonIgnore]
    public SlaMoment? Next =>
        IsFinished || PausedAt is not null ? null
        : !Warned ? new SlaMoment(SlaMomentKind.Warn, WarnAt)
        : !Breached ? new SlaMoment(SlaMomentKind.Breach, DueAt)
        : !EscalatedTwice ? new SlaMoment(SlaMomentKind.Escalate, EscalateAt)
        : null;

    public static SlaClock Start(string name, SlaBasis basis, TimeSpan limit, SlaMilestone stopsAt, DateTimeOffset at, SlaPolicy policy, bool paused) =>
        new(name, basis, limit, stopsAt, at,
            policy.MomentAt(basis, at, limit, policy.Options.WarnAtShare),
            policy.MomentAt(basis, at, limit, 1),
            policy.MomentAt(basis, at, limit, policy.Options.SecondEscalationAtShare),
            PausedAt: paused ? at : null);

    public SlaClock Passed(SlaMomentKind kind) => kind switch
    {
        SlaMomentKind.Warn => this with { Warned = true },
        SlaMomentKind.Breach => this with { Warned = true, Breached = true },
        _ => this with { EscalatedTwice = true },
    };

    /// <summary>Stopped by its milestone: met, or met late when it already breached.</summary>
    /// <summary>Stops the clock at <paramref name="at"/>. A clock on hold is judged at the moment the hold began: the
    /// time on hold is the customer's, not the service's (arriving during a hold that outlasted the old due time is
    /// still on time).</summary>
    public SlaClock Stop(DateTimeOffset at) =>
        this with { StoppedAt = at, PausedAt = null, Outcome = Breached || JudgedAt(at) > DueAt ? SlaClockState.MetLate : SlaClockState.Met };

    /// <summary>The clock time the service used if the clock stops at <paramref name="at"/> (working time for a
    /// working-day clock): resumed holds moved the due time on by their length, and a hold still on counts from its start.</summary>
    public TimeSpan Used(DateTimeOffset at, SlaPolicy policy)
    {
        var judged = JudgedAt(at);
        return judged <= DueAt ? Limit - policy.Between(Basis, judged, DueAt) : Limit + policy.Between(Basis, DueAt, judged);
    }

    /// <summary>The moment a stop at <paramref name="at"/> is judged at: a hold's start while on hold (its time is the customer's).</summary>
    private DateTimeOffset JudgedAt(DateTimeOffset at) => PausedAt ?? at;

    public SlaClock Cancel(DateTimeOffset at) => this with { StoppedAt = at, PausedAt = null, Outcome = SlaClockState.Cancelled };

    public SlaClock Pause(DateTimeOffset at) => IsFinished || PausedAt is not null ? this : this with { PausedAt = at };

    /// <summary>Resumes after a customer-caused hold: every moment still ahead moves by the clock time the hold took.</summary>
    public SlaClock Resume(DateTimeOffset at, SlaPolicy policy)
    {
        if (IsFinished || PausedAt is not { } pausedAt)
        {
            return this;
        }
        DateTimeOffset Shift(DateTimeOffset moment) =>
            moment <= pausedAt ? moment : policy.Add(Basis, at, policy.Between(Basis, pausedAt, moment));
        return this with { PausedAt = null, WarnAt = Shift(WarnAt), DueAt = Shift(DueAt), EscalateAt = Shift(EscalateAt) };
    }

    public SlaClockView ToView() => new(
        Name,
        StartedAt,
        WarnAt,
        DueAt,
        Outcome ?? (PausedAt is not null ? SlaClockState.Paused : Breached ? SlaClockState.Breached : Warned ? SlaClockState.Warned : SlaClockState.Running));
}

internal enum SlaMomentKind
{
    Warn,
    Breach,
    Escalate,
}

internal readonly record struct SlaMoment(SlaMomentKind Kind, DateTimeOffset At);
