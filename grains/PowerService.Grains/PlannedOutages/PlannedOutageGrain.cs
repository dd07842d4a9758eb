using System.Globalization;
using Microsoft.Extensions.Logging;
using PowerService.Grains.Notices;
using PowerService.Grains.Outages;
using PowerService.Grains.Topology;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.PlannedOutages;

/// <summary>One planned outage. Plan computes the impact from the topology grains and the areas' outage history,
/// checks the policy and, when accepted, stores the plan with its journal events (its own stream and each affected
/// area's) in one write; notices go to the outbox after the write. Complete adds the outage to each area's history in
/// the same write as the close-out. Starting opens the outage on the map (an <see cref="IOutageGrain"/> of kind
/// Planned, key <see cref="OutageIdOf"/>) and completing restores it; both are stored as owed with the change and made
/// after it, again on activation when a crash or a failure cut them short (both calls are idempotent).</summary>
internal sealed partial class PlannedOutageGrain(
    IPersistentState<PlannedOutageRecord> state,
    IJournal journal,
    ICatalog catalog,
    INoticeOutbox notices,
    PlannedOutageOptions options,
    ILogger<PlannedOutageGrain> logger) : Grain, IPlannedOutageGrain
{
    private const int MaxReasonLength = 500;

    /// <summary>How far ahead of the silo's clock a reported actual time may be (a PDA's clock drifts).</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>How long after the fact an actual start or end may still be recorded (a close-out after a weekend).</summary>
    private static readonly TimeSpan LateRecording = TimeSpan.FromDays(7);

    /// <summary>The moves a planned outage can make; anything else is a 409.</summary>
    private static readonly Dictionary<(PlannedOutageStatus From, Move Move), PlannedOutageStatus> Moves = new()
    {
        [(PlannedOutageStatus.Scheduled, Move.Start)] = PlannedOutageStatus.InProgress,
        [(PlannedOutageStatus.Scheduled, Move.Cancel)] = PlannedOutageStatus.Cancelled,
        [(PlannedOutageStatus.InProgress, Move.Complete)] = PlannedOutageStatus.Completed,
    };

    private PlannedOutageRecord Outage => state.State;

    private string Id => GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await SendOwedNotices();
        await SettleOwedOutage();
        if (Outage.Exists)
        {
            // The calendar is written behind: a report it lost (a crash before its flush) comes back with the next activation.
            await TellCalendar();
        }
    }

    /// <summary>The id of the outage a started planned outage opens.</summary>
    public static string OutageIdOf(string plannedOutageId) => $"OUT-P-{plannedOutageId}";

    public async Task<PlannedOutagePlan> Plan(PlannedOutageRequest request, bool dryRun)
    {
        ArgumentNullException.ThrowIfNull(request);
        var requestKey = RequestIds.Key(request.Actor, request.RequestId);
        if (Outage.Exists)
        {
            if (requestKey is null || requestKey != Outage.PlannedByRequest || dryRun)
            {
                throw new DomainConflictException($"Planned outage '{Id}' already exists ({Outage.Status}).", ConflictCodes.AlreadyExists);
            }
            // The same request again (the sender lost the answer) gets the plan it made; another plan under the same
            // request id was answered 201 with the first one, and the planning system took it as scheduled.
            return IsPlannedBy(request)
                ? new PlannedOutagePlan(false, true, Outage.Impact!, [], Outage.Warnings, Outage.ToView())
                : throw new DomainConflictException(
                    $"Request id '{request.RequestId}' already planned outage '{Id}' ({Outage.Kind}, {TimeText.Minute(Outage.PlannedStart, request.PlannedStart)} to "
                    + $"{TimeText.Minute(Outage.PlannedEnd, request.PlannedStart)}) with other content: send another plan with a request id of its own.", ConflictCodes.RequestIdReused);
        }
        var now = TimeProvider.GetUtcNow();
        var areas = await Validate(request);
        var impact = await ComputeImpact(request, areas);
        var (refusals, warnings, overridden) = CheckPolicy(request, impact, now);
        if (dryRun || refusals.Count > 0)
        {
            return new PlannedOutagePlan(dryRun, refusals.Count == 0, impact, refusals, warnings, null);
        }
        var next = new PlannedOutageRecord
        {
            Exists = true,
            Id = Id,
            Kind = request.Kind,
            Status = PlannedOutageStatus.Scheduled,
            FeederId = request.FeederId,
            TransformerAreaIds = impact.TransformerAreaIds,
            PlannedStart = request.PlannedStart,
            PlannedEnd = request.PlannedEnd,
            Reason = request.Reason.Trim(),
            Impact = impact,
            Warnings = warnings,
            OverrideReason = overridden ? request.OverrideReason!.Trim() : null,
            PlannedBy = request.Actor,
            PlannedByRequest = requestKey,
            AcceptedAt = now,
            NoticesOwed = [NoticeKind.PlannedOutageScheduled],
            UpdatedAt = now,
            Version = 1,
        };
        var events = new List<JournalEvent>(impact.TransformerAreaIds.Count + 1)
        {
            Event(PlannedOutageEvents.Scheduled, now, request.Actor, new
            {
                next.Kind,
                next.FeederId,
                next.TransformerAreaIds,
                next.PlannedStart,
                next.PlannedEnd,
                next.Reason,
                impact.AffectedCustomers,
                ImportantCustomers = impact.ImportantCustomers.Count,
                impact.CriticalCustomers,
                impact.RepeatedOutageCustomerCount,
                Warnings = warnings,
                next.OverrideReason,
            }),
        };
        var entry = new AreaPlanEntry(Id, next.PlannedStart, next.PlannedEnd);
        events.AddRange(next.TransformerAreaIds.Select(area => AreaEvent(area, AreaPlanEvents.Scheduled, now, request.Actor, entry)));
        await Commit(next, events);
        return new PlannedOutagePlan(false, true, impact, [], warnings, Outage.ToView());
    }

    /// <summary>Whether <paramref name="request"/> asks for the plan this outage is (its supply, kind, times and reason).</summary>
    private bool IsPlannedBy(PlannedOutageRequest request) =>
        request.Kind == Outage.Kind
        && request.FeederId == Outage.FeederId
        && (request.FeederId is not null || (request.TransformerAreaIds ?? []).Order(StringComparer.Ordinal).SequenceEqual(Outage.TransformerAreaIds.Order(StringComparer.Ordinal)))
        && request.PlannedStart == Outage.PlannedStart
        && request.PlannedEnd == Outage.PlannedEnd
        && request.Reason?.Trim() == Outage.Reason;

    public Task<PlannedOutageView?> Get() => Task.FromResult(Outage.Exists ? Outage.ToView() : Unknown());

    public Task<IReadOnlyList<JournalEntry>> GetHistory() =>
        Outage.Exists ? JournalEntry.HistoryAsync(journal, JournalStreams.PlannedOutage(Id)) : throw new EntityNotFoundException("Planned outage", Id);

    /// <summary>A plan never scheduled holds nothing: its activation goes unless another call comes first.</summary>
    private PlannedOutageView? Unknown()
    {
        DeactivateIfUnused();
        return null;
    }

    public Task Reannounce() => Outage.Exists ? TellCalendar() : Task.CompletedTask;

    public async Task<PlannedOutageView> Start(DateTimeOffset actualStart, string actor)
    {
        var outage = RequireOutage();
        RequireActor(actor);
        var now = TimeProvider.GetUtcNow();
        actualStart = Recorded(actualStart, now, "actualStart");
        var to = Next(outage, Move.Start);
        if (actualStart >= outage.PlannedEnd)
        {
            throw new DomainConflictException(
                $"Planned outage '{Id}' was noticed to its customers for {TimeText.Minute(outage.PlannedStart, actualStart)} to {TimeText.Minute(outage.PlannedEnd, actualStart)}: "
                + $"a start at {TimeText.Minute(actualStart)} is after its end and would cut them without notice. Cancel it and schedule a plan with its own notice.");
        }
        if (actualStart < outage.PlannedStart - options.EarlyStart)
        {
            throw new DomainConflictException(
                $"Planned outage '{Id}' was noticed to its customers for {TimeText.Minute(outage.PlannedStart, actualStart)}: it may start from "
                + $"{TimeText.Minute(outage.PlannedStart - options.EarlyStart, actualStart)}, not {TimeText.Minute(actualStart)}. To cut them earlier, cancel it and schedule a plan with its own notice.");
        }
        var next = outage with { Status = to, ActualStart = actualStart, OutageOpenOwed = true, UpdatedAt = now, Version = outage.Version + 1 };
        await Commit(next, [Event(PlannedOutageEvents.Started, now, actor, new
        {
            ActualStart = actualStart,
            outage.PlannedStart,
            StartDeviationMinutes = Minutes(actualStart - outage.PlannedStart),
        })]);
        return Outage.ToView();
    }

    public async Task StartedByMeters(DateTimeOffset darkSince)
    {
        if (Outage is not { Exists: true, Status: PlannedOutageStatus.Scheduled })
        {
            return; // started already (by another area's meters, or by the dispatcher), or cancelled
        }
        var now = TimeProvider.GetUtcNow();
        try
        {
            await Start(darkSince > now ? now : darkSince, Outages.AreaPowerGrain.MetersActor);
        }
        catch (Exception refused) when (refused is IRefusal)
        {
            LogNotStartedByMeters(logger, Id, refused.Message);
        }
    }

    public async Task<PlannedOutageView> Complete(DateTimeOffset actualEnd, string actor)
    {
        var outage = RequireOutage();
        RequireActor(actor);
        var now = TimeProvider.GetUtcNow();
        actualEnd = Recorded(actualEnd, now, "actualEnd");
        var to = Next(outage, Move.Complete);
        var actualStart = outage.ActualStart!.Value;
        if (actualEnd <= actualStart)
        {
            throw new InvalidFieldException("actualEnd", $"The actual end must be after the actual start ({TimeText.Minute(actualStart, actualEnd)}).");
        }
        var closeOut = new PlannedOutageCloseOut(
            Minutes(actualStart - outage.PlannedStart),
            Minutes(actualEnd - outage.PlannedEnd),
            Minutes(outage.PlannedEnd - outage.PlannedStart),
            Minutes(actualEnd - actualStart),
            actualEnd > outage.PlannedEnd);
        var next = outage with { Status = to, ActualEnd = actualEnd, CloseOut = closeOut, OutageRestoreOwed = true, UpdatedAt = now, Version = outage.Version + 1 };
        var record = new AreaOutageRecord(Id, OutageKind.Planned, actualStart, actualEnd, null);
        var events = new List<JournalEvent>(outage.TransformerAreaIds.Count + 1)
        {
            Event(PlannedOutageEvents.Completed, now, actor, new { ActualStart = actualStart, ActualEnd = actualEnd, outage.PlannedStart, outage.PlannedEnd, CloseOut = closeOut }),
        };
        events.AddRange(outage.TransformerAreaIds.Select(area => AreaEvent(area, AreaOutageRecord.EventType, now, actor, record)));
        await Commit(next, events);
        return Outage.ToView();
    }

    public async Task<PlannedOutageView> Cancel(string actor, string reason)
    {
        var outage = RequireOutage();
        RequireActor(actor);
        var why = RequireReason(reason, "reason");
        var now = TimeProvider.GetUtcNow();
        var to = Next(outage, Move.Cancel);
        // A schedule notice still owed never reached anyone: the customers need no cancellation of it either.
        var owed = outage.NoticesOwed.Contains(NoticeKind.PlannedOutageScheduled)
            ? outage.NoticesOwed.Where(k => k != NoticeKind.PlannedOutageScheduled).ToList()
            : [.. outage.NoticesOwed, NoticeKind.PlannedOutageCancelled];
        // Areas another plan still cuts in this window: their customers are not told their supply stays on.
        var others = await GrainFactory.GetGrain<IPlannedOutageCalendarGrain>(IPlannedOutageCalendarGrain.Key).List(
            new PlannedOutageQuery(From: outage.PlannedStart, To: outage.PlannedEnd, Take: 1_000));
        var stillCut = outage.TransformerAreaIds
            .Where(area => others.Items.Any(p => p.Id != Id && p.TransformerAreaIds.Contains(area)))
            .ToList();
        var next = outage with
        {
            Status = to, CancelledAt = now, CancelReason = why, NoticesOwed = owed, AreasStillCut = stillCut, UpdatedAt = now, Version = outage.Version + 1,
        };
        var entry = new AreaPlanEntry(Id, outage.PlannedStart, outage.PlannedEnd);
        var events = new List<JournalEvent>(outage.TransformerAreaIds.Count + 1)
        {
            Event(PlannedOutageEvents.Cancelled, now, actor, new { Reason = why, outage.PlannedStart }),
        };
        events.AddRange(outage.TransformerAreaIds.Select(area => AreaEvent(area, AreaPlanEvents.Cancelled, now, actor, entry)));
        await Commit(next, events);
        return Outage.ToView();
    }

    // ---- impact and policy ----

    private async Task<IReadOnlyList<TransformerAreaProfile>> Validate(PlannedOutageRequest request)
    {
        RequireActor(request.Actor);
        if (!Enum.IsDefined(request.Kind))
        {
            throw new InvalidFieldException("kind", "The kind is Planned or Temporary.");
        }
        RequireReason(request.Reason, "reason");
        if (request.OverrideReason is { } overrideReason && PlainText.Characters(overrideReason) > MaxReasonLength)
        {
            throw new InvalidFieldException("overrideReason", $"The override reason is longer than {MaxReasonLength} characters.");
        }
        if (request.PlannedEnd <= request.PlannedStart)
        {
            throw new InvalidFieldException("plannedEnd", "The planned end must be after the planned start.");
        }
        if (request.PlannedEnd - request.PlannedStart > options.MaxDuration)
        {
            throw new InvalidFieldException("plannedEnd", $"One outage lasts at most {options.MaxDuration.TotalHours:0.#} hours; plan longer works as several outages.");
        }
        var hasFeeder = !string.IsNullOrWhiteSpace(request.FeederId);
        var hasAreas = request.TransformerAreaIds is { Count: > 0 };
        if (hasFeeder == hasAreas)
        {
            throw new InvalidFieldException(hasFeeder ? "transformerAreaIds" : "feederId", hasFeeder
                ? "Name either a feeder or transformer areas, not both."
                : "A feeder (feederId) or transformer areas (transformerAreaIds) are required.");
        }
        IReadOnlyList<string> areaIds;
        if (hasFeeder)
        {
            var feeder = await GrainFactory.GetGrain<IFeederGrain>(request.FeederId!).GetProfile()
                ?? throw new InvalidFieldException("feederId", $"Feeder '{request.FeederId}' does not exist.");
            areaIds = feeder.TransformerAreaIds.Count > 0
                ? feeder.TransformerAreaIds
                : throw new InvalidFieldException("feederId", $"Feeder '{request.FeederId}' supplies no transformer areas: an outage of it cuts no one.");
        }
        else
        {
            areaIds = request.TransformerAreaIds!;
            if (areaIds.Count > options.MaxTransformerAreas)
            {
                throw new InvalidFieldException("transformerAreaIds", $"One plan names at most {options.MaxTransformerAreas} transformer areas.");
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < areaIds.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(areaIds[i]) || !seen.Add(areaIds[i]))
                {
                    throw new InvalidFieldException($"transformerAreaIds[{i}]", string.IsNullOrWhiteSpace(areaIds[i]) ? "The area id is empty." : $"Area '{areaIds[i]}' is named twice.");
                }
            }
        }
        var profiles = await Task.WhenAll(areaIds.Select(id => GrainFactory.GetGrain<ITransformerAreaGrain>(id).GetProfile()));
        for (var i = 0; i < profiles.Length; i++)
        {
            if (profiles[i] is null)
            {
                throw new InvalidFieldException(hasFeeder ? "feederId" : $"transformerAreaIds[{i}]", $"Transformer area '{areaIds[i]}' does not exist.");
            }
        }
        // Last: a plan naming unknown areas hears of them first.
        var now = TimeProvider.GetUtcNow();
        if (request.PlannedStart < now - options.PlanningHorizon || request.PlannedStart > now + options.PlanningHorizon)
        {
            throw new InvalidFieldException("plannedStart", $"The planned start must lie within {options.PlanningHorizon.TotalDays:0} days of now ({TimeText.Minute(now, request.PlannedStart)}).");
        }
        return profiles!;
    }

    private async Task<PlannedOutageImpact> ComputeImpact(PlannedOutageRequest request, IReadOnlyList<TransformerAreaProfile> areas)
    {
        var since = request.PlannedStart.AddMonths(-options.RepeatedOutageWindowMonths);
        var repeated = await new AreaOutageHistory(journal, catalog).RepeatedCustomersAsync(
            [.. areas.Select(a => a.Id)], since, request.PlannedStart, options.RepeatedOutageThreshold,
            newPlan: new NewPlan(Id, request.PlannedStart, request.PlannedEnd, options.RepeatedOutageWindowMonths));
        var important = areas.SelectMany(a => a.ImportantCustomers)
            .OrderByDescending(c => c.Importance)
            .ThenBy(c => c.Id, StringComparer.Ordinal)
            .ToList();
        return new PlannedOutageImpact(
            [.. areas.Select(a => a.Id)],
            areas.Sum(a => a.CustomerCount),
            important,
            important.Count(c => c.Importance == CustomerImportance.Critical),
            options.RepeatedOutageThreshold,
            since,
            repeated.Customers.Count,
            [.. repeated.Customers.Take(options.MaxListedCustomers)],
            request.PlannedStart - Notice(request.Kind),
            repeated.OverlappingPlans);
    }

    /// <summary>Refusals, warnings, and whether the dispatcher's override turned a refusal into a warning.</summary>
    private (List<PolicyFinding> Refusals, List<PolicyFinding> Warnings, bool Overridden) CheckPolicy(
        PlannedOutageRequest request, PlannedOutageImpact impact, DateTimeOffset now)
    {
        var refusals = new List<PolicyFinding>();
        var warnings = new List<PolicyFinding>();
        var overridden = false;
        if (now > impact.NoticeDeadline)
        {
            var notice = Notice(request.Kind);
            var left = request.PlannedStart > now ? $"is only {Describe(request.PlannedStart - now)} away" : "has already passed";
            refusals.Add(new PolicyFinding(PolicyRule.NoticeLeadTime,
                $"A {request.Kind.ToString().ToLowerInvariant()} outage is noticed {Describe(notice)} ahead: the start {TimeText.Minute(request.PlannedStart)} {left}. "
                + $"The earliest start now is {TimeText.Minute(now + notice, request.PlannedStart)}."));
        }
        var overrideReason = string.IsNullOrWhiteSpace(request.OverrideReason) ? null : request.OverrideReason.Trim();
        void Apply(PolicyAction action, PolicyRule rule, string message)
        {
            if (action == PolicyAction.Warn)
            {
                warnings.Add(new PolicyFinding(rule, message));
            }
            else if (overrideReason is not null)
            {
                overridden = true;
                warnings.Add(new PolicyFinding(rule, $"{message} Refusal overridden by {request.Actor}: {overrideReason}"));
            }
            else
            {
                refusals.Add(new PolicyFinding(rule, message));
            }
        }
        if (impact.RepeatedOutageCustomerCount > 0)
        {
            Apply(options.RepeatedOutageAction, PolicyRule.RepeatedOutage,
                $"{impact.RepeatedOutageCustomerCount} customer(s) were already cut {impact.RepeatedOutageThreshold} or more times since {TimeText.Minute(impact.HistorySince)}, "
                + $"or would be with this plan within {options.RepeatedOutageWindowMonths} months of a plan already scheduled after it.");
        }
        if (impact.ImportantCustomers.Count > 0)
        {
            Apply(options.ImportantCustomerAction, PolicyRule.ImportantCustomers,
                $"{impact.ImportantCustomers.Count} important customer(s), {impact.CriticalCustomers} of them critical, lose supply: arrange backup supply and call them before the start.");
        }
        if (impact.OverlappingPlanIds is { Count: > 0 } overlapping)
        {
            warnings.Add(new PolicyFinding(PolicyRule.OverlappingPlan,
                $"Planned outage(s) {string.Join(", ", overlapping)} already cut some of these areas over this window: their customers lose supply once "
                + "(counted as one cut) but are told of each plan. Cancel one if this is the same work planned twice."));
        }
        return (refusals, warnings, overridden);
    }

    private TimeSpan Notice(PlannedOutageKind kind) => kind == PlannedOutageKind.Planned ? options.PlannedNotice : options.TemporaryNotice;

    // ---- writing and notices ----

    private async Task Commit(PlannedOutageRecord next, IReadOnlyList<JournalEvent> events)
    {
        var before = state.State;
        state.State = next;
        try
        {
            await state.WriteStateAsync(events);
        }
        catch
        {
            state.State = before;
            throw;
        }
        await TellCalendar();
        await SendOwedNotices();
        await SettleOwedOutage();
    }

    /// <summary>Who opens and restores a plan's outage on the map: the plan itself, at its start and close-out.</summary>
    internal static string CloseOutActor(string planId) => OutageGrain.PlanActorPrefix + planId;

    private Task TellCalendar() =>
        GrainFactory.GetGrain<IPlannedOutageCalendarGrain>(IPlannedOutageCalendarGrain.Key).Update(PlannedOutageSummary.Of(Outage));

    /// <summary>Opens or restores the outage on the map as the stored record says is owed. A failure leaves it owed
    /// (logged) rather than failing the start or close-out that is already stored: a retried start would be a 409.</summary>
    private async Task SettleOwedOutage()
    {
        var planned = Outage;
        if (!planned.OutageOpenOwed && !planned.OutageRestoreOwed)
        {
            return;
        }
        try
        {
            var outage = GrainFactory.GetGrain<IOutageGrain>(OutageIdOf(Id));
            var actor = CloseOutActor(Id);
            if (planned.OutageOpenOwed)
            {
                await outage.Open(Opening(planned, actor));
            }
            if (planned.OutageRestoreOwed)
            {
                // At the end the close-out records (the customers' minutes are the real ones), not when it was recorded.
                await (planned.ActualEnd is { } end ? outage.RestoreAsOf(actor, end) : outage.Restore(actor));
            }
            state.State = planned with { OutageOpenOwed = false, OutageRestoreOwed = false };
            await state.WriteStateAsync();
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            state.State = planned;
            LogOutageOwed(logger, error, Id);
        }
    }

    /// <summary>The outage as the map shows it (key <see cref="OutageIdOf"/>): confirmed from the start (the work is known),
    /// no repair order (the work is scheduled), its ETR the planned end, or as long as planned from a start later than
    /// the planned end.</summary>
    private static OutageOpening Opening(PlannedOutageRecord planned, string actor)
    {
        var start = planned.ActualStart!.Value;
        var etr = planned.PlannedEnd > start ? planned.PlannedEnd : start + (planned.PlannedEnd - planned.PlannedStart);
        // The cause is the work's reason, as its customers were told it: it goes word for word into their notices (an
        // English "Temporary outage PO-…:" sat in the middle of the Chinese text). The outage's id names the plan.
        return new OutageOpening(
            OutageKind.Planned, OutageScope.TransformerArea, actor, start, planned.TransformerAreaIds, planned.FeederId,
            Confirmed: true, Cause: planned.Reason, EstimatedRestorationAt: etr);
    }

    public async Task<NewlyTold> TellCustomersNewToItsAreas()
    {
        var outage = Outage;
        if (outage is not { Status: PlannedOutageStatus.Scheduled } || outage.NoticesOwed.Count > 0)
        {
            return new NewlyTold(0, false);
        }
        // The same notice under the same key: each customer told already is skipped by the outbox.
        var told = await notices.EnqueueAsync(ScheduledNotice(outage), new NoticeAudience(outage.TransformerAreaIds));
        return new NewlyTold(told, outage.PlannedStart - TimeProvider.GetUtcNow() < Notice(outage.Kind));
    }

    private OutageNotice ScheduledNotice(PlannedOutageRecord outage) =>
        new(NoticeKind.PlannedOutageScheduled, Id, 1, outage.AcceptedAt, outage.PlannedStart, outage.PlannedEnd, outage.Reason, outage.Kind == PlannedOutageKind.Temporary);

    private async Task SendOwedNotices()
    {
        var outage = Outage;
        if (outage.NoticesOwed.Count == 0)
        {
            return;
        }
        try
        {
            foreach (var kind in outage.NoticesOwed)
            {
                // A cancellation tells why it is called off (the work's reason would read as the outage going ahead).
                var notice = kind == NoticeKind.PlannedOutageCancelled
                    ? ScheduledNotice(outage) with { Kind = kind, At = outage.CancelledAt!.Value, Cause = outage.CancelReason }
                    : ScheduledNotice(outage);
                if (kind == NoticeKind.PlannedOutageCancelled && outage.AreasStillCut.Count > 0)
                {
                    // Customers another plan still cuts then hear that it stands, not that their supply stays on.
                    var free = outage.TransformerAreaIds.Except(outage.AreasStillCut).ToList();
                    if (free.Count > 0)
                    {
                        await notices.EnqueueAsync(notice, new NoticeAudience(free));
                    }
                    await notices.EnqueueAsync(notice with { OtherPlanStands = true }, new NoticeAudience(outage.AreasStillCut));
                    continue;
                }
                await notices.EnqueueAsync(notice, new NoticeAudience(outage.TransformerAreaIds));
            }
            state.State = outage with { NoticesOwed = [] };
            await state.WriteStateAsync();
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The change is stored with the notices still owed: the next activation or change enqueues them again.
            state.State = outage;
            LogNoticesOwed(logger, error, Id);
        }
    }

    private JournalEvent Event(string type, DateTimeOffset at, string actor, object payload) =>
        new(JournalStreams.PlannedOutage(Id), type, at, actor, null, AreaOutageHistory.Serialize(payload));

    private static JournalEvent AreaEvent<T>(string areaId, string type, DateTimeOffset at, string actor, T payload) =>
        new(JournalStreams.Area(areaId), type, at, actor, null, AreaOutageHistory.Serialize(payload));

    // ---- checks ----

    private PlannedOutageRecord RequireOutage()
    {
        if (!Outage.Exists)
        {
            Unknown();
            throw new EntityNotFoundException("Planned outage", Id);
        }
        return Outage;
    }

    private PlannedOutageStatus Next(PlannedOutageRecord outage, Move move) =>
        Moves.TryGetValue((outage.Status, move), out var to)
            ? to
            : throw new DomainConflictException($"Planned outage '{Id}' is {outage.Status}: {move} is not allowed.");

    private static void RequireActor(string actor)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new InvalidFieldException("actor", "The actor (who does this) is required.");
        }
    }

    private static string RequireReason(string? reason, string field)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new InvalidFieldException(field, "A reason is required.");
        }
        if (PlainText.Characters(reason) > MaxReasonLength)
        {
            throw new InvalidFieldException(field, $"The reason is longer than {MaxReasonLength} characters.");
        }
        // Told to every customer of the plan word for word, as an outage's cause is.
        return PlainText.FindWebAddress(reason) is { } address
            ? throw new InvalidFieldException(field, $"The reason is told to every affected customer as written: say what the work is, without a web address ('{address}' reads as one).")
            : reason.Trim();
    }

    /// <summary>An actual time is recorded when it happens or soon after: not in the future, and at most
    /// <see cref="LateRecording"/> ago. A start from a PDA's zero date (0001-01-01) counted as an outage since year 1
    /// in every affected customer's reliability indicators. A time up to <see cref="ClockSkew"/> ahead is the device's
    /// clock drifting: it is recorded as now, as the outage on the map records it (the close-out said 4.8 minutes,
    /// the indicators counted 0.8).</summary>
    private static DateTimeOffset Recorded(DateTimeOffset at, DateTimeOffset now, string field)
    {
        if (at > now + ClockSkew)
        {
            throw new InvalidFieldException(field, $"{field} {TimeText.Minute(at)} is in the future (now {TimeText.Minute(now, at)}).");
        }
        if (at < now - LateRecording)
        {
            throw new InvalidFieldException(field, $"{field} {TimeText.Minute(at)} is more than {LateRecording.TotalDays:0} days ago (now {TimeText.Minute(now, at)}); record it when it happens.");
        }
        return at > now ? now : at;
    }

    private static double Minutes(TimeSpan span) => Math.Round(span.TotalMinutes, 1);



    private static string Describe(TimeSpan span) =>
        span.Ticks % TimeSpan.TicksPerDay == 0 && span.Days > 1 ? $"{span.Days} days"
        : span.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(int)span.TotalHours} hours"
        : $"{(int)span.TotalHours} h {span.Minutes} min";

    [LoggerMessage(Level = LogLevel.Information, Message = "Planned outage {PlannedOutageId}: its areas' meters went dark in its window, but it was not started by them: {Reason}")]
    private static partial void LogNotStartedByMeters(ILogger logger, string plannedOutageId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Planned outage {PlannedOutageId}: its change is stored but the notice outbox did not take its notices; they stay owed")]
    private static partial void LogNoticesOwed(ILogger logger, Exception error, string plannedOutageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Planned outage {PlannedOutageId}: its change is stored but its outage on the map was not opened or restored; it stays owed")]
    private static partial void LogOutageOwed(ILogger logger, Exception error, string plannedOutageId);

    private enum Move
    {
        Start,
        Complete,
        Cancel,
    }
}
