using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using PowerService.Grains.Indicators;
using PowerService.Grains.Notices;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.Outages;

/// <summary>One outage. Each change builds the next record and the events that explain it and stores both in one
/// write; what others must hear of it (customer notices, the repair order, the outage board, the area or feeder that
/// opened it) is recorded as owed in that same write and done after it, again on activation if a crash cut it short.
/// Every such call is idempotent. Customer notices are handed to the outbox on the grain's next flush (within a
/// second), outside the call that caused them. Merged calls are counted behind (at most once a second): the merged orders
/// themselves are durable.</summary>
[GrainType("Outage")]
internal sealed partial class OutageGrain(
    IPersistentState<OutageRecord> state,
    IJournal journal,
    INoticeOutbox notices,
    OutageOptions options,
    ILogger<OutageGrain> logger) : Grain, IOutageGrain, IRemindable
{
    /// <summary>Wakes the outage when an estimate change held back from customers is due to be told (see
    /// <see cref="OutageOptions.EtrNoticeInterval"/>).</summary>
    private const string EtrNoticeReminder = "etr-notice";

    /// <summary>Wakes the outage when its areas have not said which of their meters were still dark at its restoration
    /// (see <see cref="OutageRecord.RestoredNoticeAwaits"/>): their customers are told then, without the answer.</summary>
    private const string RestoredNoticeReminder = "restored-notice";

    /// <summary>Wakes the outage when its "detected" notice, held while it could still be a blink, is due to be told
    /// (see <see cref="OutageRecord.DetectedNoticeHeldUntil"/>).</summary>
    private const string DetectedNoticeReminder = "detected-notice";

    /// <summary>How long a "power restored" waits for the areas' answer (a second, normally) before it goes out without.</summary>
    private static readonly TimeSpan RestoredNoticeWait = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan FlushDelay = TimeSpan.FromSeconds(1);
    private static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The actor of a planned outage's own start and close-out ("planned-outage:{plan id}").</summary>
    internal const string PlanActorPrefix = "planned-outage:";

    private WriteBehind _record = null!;

    // Calls merged while the opening was still on its way from the area (counted behind, like every merged call).
    private readonly List<string> _mergedBeforeOpening = [];

    // A call merged before a crash, told again by its order's recovery before the opening arrived: it confirms.
    private bool _confirmedByRecoveredCall;

    private OutageRecord O => state.State;

    private string Id => GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _record = new WriteBehind(WriteBehindAsync, RegisterTimer, FlushDelay);
        if (O is { DarkAtRestoreStoredBefore: { } dark, TransformerAreaIds: [var area, ..] })
        {
            // Stored by a build that kept one list for the outage's one area.
            state.State = O with { DarkAtRestoreStoredBefore = null, DarkAtRestoreByArea = new Dictionary<string, IReadOnlyList<string>> { [area] = dark } };
        }
        return O.Exists ? SettleOwed() : Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Flush();

    /// <summary>The id of the repair order an unplanned outage opens for itself.</summary>
    internal static string RepairOrderOf(string outageId) => $"WO-{outageId}";

    public Task<OutageView?> Get() => Task.FromResult(O.Exists ? O.ToView() : Unknown());

    public Task<IReadOnlyList<JournalEntry>> GetHistory() =>
        O.Exists ? JournalEntry.HistoryAsync(journal, JournalStreams.Outage(Id)) : throw new EntityNotFoundException("Outage", Id);

    /// <summary>An outage not opened goes unless another call comes first, when it holds no call merged ahead of its
    /// opening.</summary>
    private OutageView? Unknown()
    {
        if (_mergedBeforeOpening.Count == 0 && !_confirmedByRecoveredCall)
        {
            DeactivateIfUnused();
        }
        return null;
    }

    public Task Reannounce() =>
        O.Exists ? GrainFactory.GetGrain<IOutageBoardGrain>(OutageBoardGrain.Key).Update(OutageSummary.Of(O)) : Task.CompletedTask;

    public async Task<OutageView> Open(OutageOpening opening)
    {
        if (O.Exists)
        {
            return O.ToView();
        }
        if (string.IsNullOrWhiteSpace(opening.Actor))
        {
            throw new InvalidFieldException("actor", "The actor is required.");
        }
        if (opening.TransformerAreaIds.Count == 0)
        {
            throw new InvalidFieldException("transformerAreaIds", "An outage names at least one transformer area.");
        }
        var profiles = await Task.WhenAll(opening.TransformerAreaIds.Select(a => GrainFactory.GetGrain<ITransformerAreaGrain>(a).GetProfile()));
        if (Array.FindIndex(profiles, p => p is null) is var unknown and >= 0)
        {
            throw new InvalidFieldException("transformerAreaIds", $"Transformer area '{opening.TransformerAreaIds[unknown]}' is not known.");
        }
        var areas = profiles.Select(p => p!).ToList();
        var meters = opening.MeterIds is { } listed ? listed.ToHashSet(StringComparer.Ordinal) : null;
        var now = TimeProvider.GetUtcNow();
        var areaClass = areas.Max(a => a.AreaClass);
        // Meters stamped a few minutes ahead (within the head-end's tolerance) do not start an outage in the future.
        var startedAt = opening.StartedAt > now ? now : opening.StartedAt;
        // A customer's call is evidence: one merged before the opening arrived confirms it too.
        var confirmed = opening.Confirmed || _mergedBeforeOpening.Count > 0 || _confirmedByRecoveredCall;
        var parent = opening.ParentOutageId is { } parentId ? await GrainFactory.GetGrain<IOutageGrain>(parentId).Get() : null;
        var record = new OutageRecord
        {
            Exists = true,
            Id = Id,
            Kind = opening.Kind,
            Scope = opening.Scope,
            State = confirmed ? OutageState.Confirmed : OutageState.Suspected,
            Region = areas[0].Region,
            FeederId = opening.FeederId ?? (areas.Select(a => a.FeederId).Distinct().Count() == 1 ? areas[0].FeederId : null),
            TransformerAreaIds = [.. opening.TransformerAreaIds],
            MeterIds = opening.MeterIds is null ? null : [.. opening.MeterIds],
            AffectedCustomers = meters?.Count ?? areas.Sum(a => a.CustomerCount),
            CustomersAlreadyOut = opening.CustomersAlreadyOut,
            ImportantCustomers = [.. areas.SelectMany(a => a.ImportantCustomers).Where(c => meters is null || meters.Contains(c.MeterId))],
            Location = new GeoPoint(areas.Average(a => a.Location.Latitude), areas.Average(a => a.Location.Longitude)),
            AreaClass = areaClass,
            StartedAt = startedAt,
            EstimatedRestorationAt = opening.EstimatedRestorationAt ?? ParentsEstimate(parent, now) ?? DefaultEstimate(startedAt, areaClass, now),
            // The same fault to its customers, who were told its cause: a nested outage's first notice dropped it.
            Cause = opening.Cause ?? parent?.Cause,
            ParentOutageId = opening.ParentOutageId,
            // Every meter of the area still dark after its outage was ended (a close-out or a restore with the supply still
            // off): the area is not back, and its customers are not told it is.
            WholeAreaStillDark = opening.ParentOutageId is not null && meters is not null && meters.Count >= areas.Sum(a => a.CustomerCount),
            MergedCalls = _mergedBeforeOpening.Count,
            MergedCallsAnnounced = _mergedBeforeOpening.Count,
            RecentCalls = [.. _mergedBeforeOpening.Select(order => new CountedCall(order, now.ToUnixTimeMilliseconds()))],
            CountedSince = now.ToUnixTimeMilliseconds(),
            // A planned outage has its work scheduled already; an unplanned one gets a repair order now, before any call,
            // unless one already serves it (the feeder outage's, for an area that went out under it).
            RepairOrderId = opening.RepairOrderId ?? (opening.Kind == OutageKind.Unplanned ? RepairOrderOf(Id) : null),
            RepairOrderOwed = opening.Kind == OutageKind.Unplanned && opening.RepairOrderId is null,
            // A planned outage's customers were told 7 days (or 24 h) ahead by its plan: no "detected" notice, but
            // they are told of a new ETR and of the restoration like any outage's.
            CustomersTold = confirmed || opening.Kind == OutageKind.Planned,
            PlannedAreasOwed = opening.Kind == OutageKind.Planned,
            EarlierCallsOwed = opening.Kind == OutageKind.Unplanned ? [.. opening.EarlierCalls ?? []] : [],
            UpdatedAt = now,
        };
        var events = new List<JournalEvent> { Event("OutageOpened", opening.Actor, now, new
        {
            record.Kind, record.Scope, record.State, record.TransformerAreaIds, record.MeterIds, record.AffectedCustomers,
            ImportantCustomers = record.ImportantCustomers.Count, record.StartedAt, record.EstimatedRestorationAt, record.Cause,
            record.RepairOrderId, record.ParentOutageId,
        }) };
        if (confirmed && opening.Kind == OutageKind.Unplanned)
        {
            record = Owe(record, NoticeKind.OutageDetected, now);
        }
        record = HeldWhileItMayBeABlink(record, now);
        LogOpened(logger, Id, record.Scope, record.State, record.AffectedCustomers);
        await Commit(record with { BoardOwed = true }, events);
        return O.ToView();
    }

    public async Task<OutageView> Confirm(string actor, string? cause = null)
    {
        var outage = RequireOutage(actor);
        RequireToldCause(cause);
        if (outage.State == OutageState.Restored)
        {
            throw new DomainConflictException($"Outage '{Id}' is already restored.");
        }
        if (outage.State != OutageState.Suspected && (cause is null || cause == outage.Cause))
        {
            return outage.ToView();
        }
        var now = TimeProvider.GetUtcNow();
        var next = Told(outage with { State = outage.State == OutageState.Suspected ? OutageState.Confirmed : outage.State, Cause = cause ?? outage.Cause }, now);
        await Commit(next with { BoardOwed = true }, [Event("OutageConfirmed", actor, now, new { next.State, next.Cause })]);
        return O.ToView();
    }

    public async Task ConfirmedByMeters()
    {
        if (O.Exists && O.State == OutageState.Suspected)
        {
            await Confirm(AreaPowerGrain.MetersActor);
        }
    }

    public async Task<OutageView> SetEstimatedRestoration(DateTimeOffset estimatedRestorationAt, string actor, string? cause = null)
    {
        var outage = RequireOutage(actor);
        RequireToldCause(cause);
        var now = TimeProvider.GetUtcNow();
        if (estimatedRestorationAt <= outage.StartedAt)
        {
            throw new InvalidFieldException("estimatedRestorationAt", $"The estimated restoration must be after the outage started ({TimeText.Minute(outage.StartedAt, estimatedRestorationAt)}).");
        }
        if (estimatedRestorationAt <= now)
        {
            // Customers are told the estimate: one already past tells them nothing.
            throw new InvalidFieldException("estimatedRestorationAt", $"The estimated restoration must be in the future (after {TimeText.Minute(now, estimatedRestorationAt)}).");
        }
        var latest = now + options.MaxEstimatedRestoration;
        if (estimatedRestorationAt > latest)
        {
            throw new InvalidFieldException("estimatedRestorationAt", $"The estimated restoration is at most {options.MaxEstimatedRestoration.TotalDays:0} days ahead (before {TimeText.Minute(latest, estimatedRestorationAt)}).");
        }
        if (outage.State == OutageState.Restored)
        {
            throw new DomainConflictException($"Outage '{Id}' is already restored.");
        }
        if (estimatedRestorationAt == outage.EstimatedRestorationAt && (cause is null || cause == outage.Cause))
        {
            return outage.ToView(); // nothing new to tell anyone (a resend, or a feeder passing its estimate on again)
        }
        var next = outage with { EstimatedRestorationAt = estimatedRestorationAt, EtrRevision = outage.EtrRevision + 1, Cause = cause ?? outage.Cause, EtrSetBy = actor };
        ReminderChange? wakeUp = null;
        if (next.CustomersTold && next.Scope != OutageScope.Feeder && next.EtrToldAt is { } toldAt && now - toldAt < options.EtrNoticeInterval)
        {
            // Told less than the interval ago: the customers hear this change (or a later one) when it has passed, once.
            // Each change was a text message to every customer of the outage: an estimate edited five times in a minute
            // was five messages, and a stolen PDA could message thousands of customers in a loop.
            if (!next.EtrNoticeHeld)
            {
                wakeUp = ReminderChange.Set(EtrNoticeReminder, toldAt + options.EtrNoticeInterval, TimeSpan.Zero);
            }
            next = next with { EtrNoticeHeld = true };
        }
        else if (next.CustomersTold)
        {
            next = Owe(next, NoticeKind.RestorationEstimateChanged, now);
        }
        // Customers of a feeder outage hear through its areas' outages, which get the same estimate after this write
        // (owed in it, so a crash or a failure between does not leave some areas with the old one).
        if (outage.Children.Count > 0)
        {
            next = next with { ChildEtrOwed = new EtrChange(estimatedRestorationAt, actor, cause) };
        }
        await Commit(next with { BoardOwed = true }, [Event("EstimatedRestorationSet", actor, now, new { EstimatedRestorationAt = estimatedRestorationAt, Previous = outage.EstimatedRestorationAt, next.Cause })], wakeUp);
        return O.ToView();
    }

    /// <summary>The estimate held back from customers is told now, as it is now (a restored outage tells "restored"
    /// instead, and an estimate set back to the one told tells nothing).</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == RestoredNoticeReminder)
        {
            await TellRestoredWithoutAnswer();
            return;
        }
        if (reminderName == DetectedNoticeReminder)
        {
            if (O is { Exists: true, DetectedNoticeHeldUntil: not null })
            {
                state.State = Released(O, TimeProvider.GetUtcNow());
                MarkDirty();
                await Flush();
            }
            return;
        }
        if (reminderName != EtrNoticeReminder || !O.Exists || !O.EtrNoticeHeld)
        {
            return;
        }
        var now = TimeProvider.GetUtcNow();
        var next = O with { EtrNoticeHeld = false };
        if (next.State != OutageState.Restored && (next.EstimatedRestorationAt != next.EtrTold || next.Cause != next.CauseTold))
        {
            next = Owe(next, NoticeKind.RestorationEstimateChanged, now);
        }
        await Commit(next, []);
    }

    public Task<OutageView> Restore(string actor) => Restore(actor, byRepair: false, null);

    public Task<OutageView> RestoreAsOf(string actor, DateTimeOffset restoredAt) => Restore(actor, byRepair: false, restoredAt);

    public Task<OutageView> RestoredByMeters(string transformerAreaId, DateTimeOffset restoredAt, IReadOnlyList<string> metersStillDark) =>
        Restore(AreaPowerGrain.MetersActor, byRepair: false, restoredAt, (transformerAreaId, metersStillDark));

    public Task DarkAtRestoration(string transformerAreaId, IReadOnlyList<string> metersStillDark)
    {
        if (O is not { Exists: true, State: OutageState.Restored } || !O.RestoredNoticeAwaits.Contains(transformerAreaId))
        {
            return Task.CompletedTask; // answered already, or told without the answer
        }
        var next = O with
        {
            RestoredNoticeAwaits = [.. O.RestoredNoticeAwaits.Where(area => area != transformerAreaId)],
            DarkAtRestoreByArea = WithDark(O.DarkAtRestoreByArea, transformerAreaId, metersStillDark ?? []),
        };
        state.State = Owe(next, NoticeKind.PowerRestored, TimeProvider.GetUtcNow());
        MarkDirty();
        return Task.CompletedTask;
    }

    public Task NestedChecked(string transformerAreaId, IReadOnlyList<string> metersStillDark)
    {
        if (O is not { Exists: true } || O.DarkAtRestoreByArea?.GetValueOrDefault(transformerAreaId) is not { Count: > 0 } dark)
        {
            return Task.CompletedTask;
        }
        // The ones still dark stay left out of this outage's "power restored" (their nested outage tells them); the
        // ones back are owed it, if the outage's customers were told of it at all (a blink's were not).
        var stillDark = new HashSet<string>(metersStillDark ?? [], StringComparer.Ordinal);
        state.State = O with
        {
            DarkAtRestoreByArea = WithDark(O.DarkAtRestoreByArea, transformerAreaId, [.. dark.Where(stillDark.Contains)]),
            RestoredNoticeOwedTo = O.CustomersTold ? [.. O.RestoredNoticeOwedTo, .. dark.Where(m => !stillDark.Contains(m))] : O.RestoredNoticeOwedTo,
        };
        MarkDirty();
        return Task.CompletedTask;
    }

    private static Dictionary<string, IReadOnlyList<string>> WithDark(IReadOnlyDictionary<string, IReadOnlyList<string>>? dark, string area, IReadOnlyList<string> meters)
    {
        var next = dark is null ? new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) : new Dictionary<string, IReadOnlyList<string>>(dark, StringComparer.Ordinal);
        next[area] = meters;
        return next;
    }

    /// <summary>The areas did not answer in time (one crashed, or was not in the outage any more): their customers are
    /// told "power restored" now, but those already known to be dark. Late is better than never.</summary>
    private async Task TellRestoredWithoutAnswer()
    {
        if (O is not { Exists: true, RestoredNoticeAwaits.Count: > 0 })
        {
            return;
        }
        await Commit(Owe(O with { RestoredNoticeAwaits = [] }, NoticeKind.PowerRestored, TimeProvider.GetUtcNow()), []);
    }

    /// <param name="byRepair">The repair order resolved it: that order is done and is not asked again.</param>
    /// <param name="asOf">When supply came back, if not now (see <see cref="IOutageGrain.RestoreAsOf"/>).</param>
    /// <param name="stillDark">The area whose meters ended it, and those of its meters still dark then (see
    /// <see cref="IOutageGrain.RestoredByMeters"/>).</param>
    private async Task<OutageView> Restore(string actor, bool byRepair, DateTimeOffset? asOf, (string Area, IReadOnlyList<string> Meters)? stillDark = null)
    {
        var outage = RequireOutage(actor);
        var now = TimeProvider.GetUtcNow();
        var restoredAt = asOf is { } at ? (at < outage.StartedAt ? outage.StartedAt : at > now ? now : at) : now;
        var byCloseOut = outage.Kind == OutageKind.Planned && actor.StartsWith(PlanActorPrefix, StringComparison.Ordinal);
        if (outage.State == OutageState.Restored)
        {
            if (byCloseOut && outage.IndicatorsHeld)
            {
                // Restored on the map by a dispatcher before the close-out: the close-out's actual end is the one the
                // customers' minutes count (the area history has it too), not the moment of the click.
                await Commit(
                    outage with { RestoredAt = restoredAt, IndicatorsHeld = false, IndicatorsOwed = true, BoardOwed = true },
                    [Event("RestorationRecorded", actor, now, new { RestoredAt = restoredAt, Previous = outage.RestoredAt, Duration = restoredAt - outage.StartedAt })]);
                return O.ToView();
            }
            return outage.ToView();
        }
        var next = outage with
        {
            State = OutageState.Restored,
            RestoredAt = restoredAt,
            DarkAtRestoreByArea = stillDark is ({ } area, { Count: > 0 } dark) ? WithDark(null, area, dark) : null,
            // Whoever restored it other than the meters of its own area must tell the area (or feeder) that opened it;
            // a planned outage's areas always hear of it (their meters never end it).
            OpenerOwed = outage.Kind == OutageKind.Planned || actor != AreaPowerGrain.MetersActor,
            RepairCancelOwed = outage.OwnsRepairOrder && !byRepair,
            // A feeder outage's customers are counted by its area outages; a planned outage's by its close-out.
            IndicatorsOwed = outage.Scope != OutageScope.Feeder && (outage.Kind == OutageKind.Unplanned || byCloseOut),
            IndicatorsHeld = outage.Scope != OutageScope.Feeder && outage.Kind == OutageKind.Planned && !byCloseOut,
            // The feeder's repair (or a dispatcher) restored it: its areas are back with it. Restored by the meters, the
            // last area has ended already.
            ChildrenRestoreOwed = outage.Scope == OutageScope.Feeder && actor != AreaPowerGrain.MetersActor && outage.Children.Count > 0 ? actor : null,
        };
        if (next.DetectedNoticeHeldUntil is not null)
        {
            // Its customers have not been told yet: a blink is never told them ("outage", then "restored" a minute
            // later); an outage that outlasted one (its reminder late) is told before its restoration.
            next = IsMomentary(outage, restoredAt) ? Unheard(next) : Released(next, now);
        }
        ReminderChange? wakeUp = null;
        if (next.CustomersTold && next.OpenerOwed && next.Scope != OutageScope.Feeder && (next.Scope == OutageScope.TransformerArea || next.Kind == OutageKind.Planned))
        {
            // Restored by a crew, a dispatcher or a close-out: the areas are told first and say which of their meters
            // still report no power; those customers are not told "power restored" while they sit in the dark (they
            // were, and heard of a nested outage three minutes later). The rest are told as each area answers.
            next = next with { RestoredNoticeAwaits = next.TransformerAreaIds };
            wakeUp = ReminderChange.Set(RestoredNoticeReminder, now + RestoredNoticeWait, TimeSpan.Zero);
        }
        else if (next.CustomersTold)
        {
            next = Owe(next, NoticeKind.PowerRestored, now);
        }
        var events = new List<JournalEvent>
        {
            Event("OutageRestored", actor, now, new { RestoredAt = restoredAt, Duration = restoredAt - outage.StartedAt, outage.MergedCalls }),
        };
        if (outage.Scope != OutageScope.Feeder && outage.Kind == OutageKind.Unplanned && !IsMomentary(outage, restoredAt))
        {
            // The area's history, read by planned outages to count customers cut repeatedly (a blink is no cut); a feeder outage's areas
            // are recorded by its area outages, a planned outage's by its close-out (with the actual times reported).
            var record = new AreaOutageRecord(Id, outage.Kind, outage.StartedAt, restoredAt, outage.MeterIds);
            events.AddRange(outage.TransformerAreaIds.Select(area => new JournalEvent(
                JournalStreams.Area(area), AreaOutageRecord.EventType, now, actor, null, JsonSerializer.Serialize(record, PayloadJson))));
        }
        LogRestored(logger, Id, actor, now - outage.StartedAt);
        await Commit(next with { BoardOwed = true }, events, wakeUp);
        return O.ToView();
    }

    public Task MergedCallRecovered(string orderId, DateTimeOffset mergedAt)
    {
        if (!O.Exists)
        {
            _confirmedByRecoveredCall = true;
            MergedBeforeOpening(orderId);
            return Task.CompletedTask;
        }
        // Counted unless the stored count holds it: a call in the outage's recent calls, or merged before them (stored
        // long before the crash). The count stayed short for good of the calls merged in a crash's last second.
        if (O.CountedSince is { } since && mergedAt.ToUnixTimeMilliseconds() >= since && !O.RecentCalls.Any(c => c.OrderId == orderId))
        {
            return CallMerged(orderId);
        }
        return O.State == OutageState.Suspected ? Confirm($"call:{orderId}") : Task.CompletedTask;
    }

    public Task CallMerged(string orderId)
    {
        if (!O.Exists)
        {
            MergedBeforeOpening(orderId);
            return Task.CompletedTask;
        }
        var outage = RequireOutage("system");
        if (outage.RecentCalls.Any(c => c.OrderId == orderId))
        {
            return Task.CompletedTask; // counted already (told again after a restart)
        }
        state.State = outage with { MergedCalls = outage.MergedCalls + 1, RecentCalls = Counted(outage, orderId), CountedSince = CountedSince(outage) };
        // A customer's call is evidence: a suspected outage is confirmed by it.
        if (outage.State == OutageState.Suspected)
        {
            return Confirm($"call:{orderId}");
        }
        MarkDirty();
        return Task.CompletedTask;
    }

    private void MergedBeforeOpening(string orderId)
    {
        if (!_mergedBeforeOpening.Contains(orderId))
        {
            _mergedBeforeOpening.Add(orderId);
        }
    }

    /// <summary>How long a counted call is kept in <see cref="OutageRecord.RecentCalls"/>: far longer than a call takes
    /// from its order's commit to this count, and than a recovery's replay reaches back.</summary>
    private static readonly TimeSpan RecentCallsKept = TimeSpan.FromMinutes(10);

    private long RecentCallsCutoff => (TimeProvider.GetUtcNow() - RecentCallsKept).ToUnixTimeMilliseconds();

    private IReadOnlyList<CountedCall> Counted(OutageRecord outage, string orderId)
    {
        var cutoff = RecentCallsCutoff;
        return [.. outage.RecentCalls.Where(c => c.At >= cutoff), new CountedCall(orderId, TimeProvider.GetUtcNow().ToUnixTimeMilliseconds())];
    }

    private long CountedSince(OutageRecord outage) => Math.Max(outage.CountedSince ?? long.MinValue, RecentCallsCutoff);

    public async Task RepairChanged(string orderId, WorkOrderState orderState, string? crewId)
    {
        var outage = RequireOutage("system");
        if (orderId != outage.RepairOrderId || outage.State == OutageState.Restored)
        {
            return;
        }
        if (orderState is WorkOrderState.Resolved or WorkOrderState.CallbackPending)
        {
            await Restore($"crew:{crewId}", byRepair: true, null);
            return;
        }
        // The outage's crew is the crew working its repair now: it reads the important customers' phones, sets the ETR
        // and restores. It was the first crew ever to accept, kept after a dispatcher gave the order to another: the
        // crew taken off restored the outage (50 customers told power was back while dark), the crew on it was refused.
        var working = WorkOrderTransitions.IsWorkedByCrew(orderState);
        var now = TimeProvider.GetUtcNow();
        if (working && crewId is not null && (outage.State != OutageState.CrewAssigned || outage.CrewId != crewId))
        {
            var next = Told(outage with { State = OutageState.CrewAssigned, CrewId = crewId }, now);
            await Commit(next with { BoardOwed = true }, [Event("CrewAssigned", $"crew:{crewId}", now, new { CrewId = crewId, OrderId = orderId, Previous = outage.CrewId })]);
        }
        else if (!working && outage.State == OutageState.CrewAssigned)
        {
            // Handed back, rejected or reassigned and not yet accepted: no crew works it.
            var next = Told(outage with { State = OutageState.Confirmed, CrewId = null }, now);
            await Commit(next with { BoardOwed = true }, [Event("CrewUnassigned", "system", now, new { Previous = outage.CrewId, OrderId = orderId, OrderState = orderState })]);
        }
    }

    public async Task JoinFeederOutage(string feederOutageId, string? feederRepairOrderId)
    {
        var outage = RequireOutage("system");
        if (outage.ParentOutageId == feederOutageId || outage.State == OutageState.Restored)
        {
            return;
        }
        var now = TimeProvider.GetUtcNow();
        var next = outage with { ParentOutageId = feederOutageId, RepairMergeOwed = feederRepairOrderId };
        if (next.State == OutageState.Suspected)
        {
            next = Told(next with { State = OutageState.Confirmed }, now);
        }
        await Commit(next with { BoardOwed = true }, [Event("JoinedFeederOutage", "system", now, new { FeederOutageId = feederOutageId, RepairOrderId = feederRepairOrderId })]);
    }

    public async Task ChildOpened(string childOutageId, string transformerAreaId)
    {
        var outage = RequireOutage("system");
        if (outage.Children.Contains(childOutageId))
        {
            return;
        }
        var newArea = !outage.TransformerAreaIds.Contains(transformerAreaId);
        var affected = outage.AffectedCustomers;
        IReadOnlyList<KeyCustomer> joining = [];
        if (newArea && await GrainFactory.GetGrain<IOutageGrain>(childOutageId).Get() is { } child)
        {
            affected += child.AffectedCustomers;
            joining = [.. child.ImportantCustomers.Where(c => !outage.ImportantCustomers.Any(known => known.Id == c.Id))];
        }
        var now = TimeProvider.GetUtcNow();
        var next = outage with
        {
            Children = [.. outage.Children, childOutageId],
            TransformerAreaIds = newArea ? [.. outage.TransformerAreaIds, transformerAreaId] : outage.TransformerAreaIds,
            AffectedCustomers = affected,
            ImportantCustomers = [.. outage.ImportantCustomers, .. joining],
            // The repair is an emergency once a critical customer (a hospital, the water works) is cut, as for an
            // outage that opens with one.
            EmergencyOwed = outage.EmergencyOwed || joining.Any(c => c.Importance == CustomerImportance.Critical),
        };
        await Commit(next with { BoardOwed = true }, [Event("AreaJoined", "system", now, new { ChildOutageId = childOutageId, TransformerAreaId = transformerAreaId, AffectedCustomers = affected })]);
    }

    // ---- state and what is owed after it ----

    private OutageRecord RequireOutage(string actor)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new InvalidFieldException("actor", "The actor is required.");
        }
        if (!O.Exists)
        {
            Unknown();
            throw new EntityNotFoundException("Outage", Id);
        }
        return O;
    }

    /// <summary>A nested outage's customers were told its parent's estimate minutes ago (a dispatcher's or a crew's):
    /// they keep it while it lies ahead, instead of a default counted from when their meters went dark.</summary>
    private static DateTimeOffset? ParentsEstimate(OutageView? parent, DateTimeOffset now) =>
        parent is { EstimatedRestorationAt: { } estimate } && estimate > now ? estimate : null;

    /// <summary>The area class's default restoration time, counted from the start; when that has passed already (a
    /// head-end's backlog delivered hours late), from now: customers were texted an estimate already behind them, which
    /// a dispatcher setting it would have been refused.</summary>
    private DateTimeOffset DefaultEstimate(DateTimeOffset startedAt, AreaClass areaClass, DateTimeOffset now)
    {
        var restoration = options.DefaultRestoration(areaClass);
        return startedAt + restoration > now ? startedAt + restoration : now + restoration;
    }

    /// <summary>The cause goes word for word into every affected customer's message, under the utility's name: it says
    /// what failed, never where to go (a link in it would be a phishing text the utility sent and paid for).</summary>
    private static void RequireToldCause(string? cause)
    {
        if (cause is not null && PlainText.FindWebAddress(cause) is { } address)
        {
            throw new InvalidFieldException("cause", $"The cause is told to every affected customer as written: say what failed, without a web address ('{address}' reads as one).");
        }
    }

    /// <summary>Customers hear of the outage once it is confirmed (not while only suspected), and not while it may still
    /// be a blink.</summary>
    private OutageRecord Told(OutageRecord next, DateTimeOffset now) =>
        next.CustomersTold || next.State == OutageState.Suspected ? next : HeldWhileItMayBeABlink(Owe(next with { CustomersTold = true }, NoticeKind.OutageDetected, now), now);

    /// <summary>An unplanned outage's "detected" notice waits until the outage has lasted longer than
    /// <see cref="OutageOptions.MomentaryAtMost"/>: a recloser's trip and close sent every customer of the area
    /// "outage" and "restored" within a minute, for an interruption the indicators do not even count. Within the 5 minutes
    /// of confirmation DESIGN §5 promises. The outage's reminder tells it when the time has passed (<see cref="Released"/>);
    /// restored before, it is never told (<see cref="Unheard"/>).</summary>
    private OutageRecord HeldWhileItMayBeABlink(OutageRecord next, DateTimeOffset now) =>
        next.DetectedNoticeHeldUntil is null && MayBeMomentary(next) && next.NoticesOwed.Any(n => n.Kind == NoticeKind.OutageDetected)
        && next.StartedAt + options.MomentaryAtMost is var until && until > now
            ? next with { DetectedNoticeHeldUntil = until }
            : next;

    /// <summary>The held "detected" notice goes out, with the estimate and cause as they are now (they may have changed
    /// while it waited); the estimate's notice interval counts from now.</summary>
    private static OutageRecord Released(OutageRecord next, DateTimeOffset now) => next with
    {
        DetectedNoticeHeldUntil = null,
        NoticesOwed = [.. next.NoticesOwed.Select(n => n.Kind == NoticeKind.OutageDetected
            ? n with { At = now, EstimatedRestorationAt = next.EstimatedRestorationAt, Cause = next.Cause }
            : n)],
        EtrToldAt = now,
        EtrTold = next.EstimatedRestorationAt,
        CauseTold = next.Cause,
        EtrNoticeHeld = false,
    };

    /// <summary>A blink over before its customers were told: nothing is told them, neither the outage nor its end.</summary>
    private static OutageRecord Unheard(OutageRecord next) => next with
    {
        DetectedNoticeHeldUntil = null,
        NoticesOwed = [.. next.NoticesOwed.Where(n => n.Kind != NoticeKind.OutageDetected)],
        CustomersTold = false,
        EtrNoticeHeld = false,
    };

    /// <summary>A feeder outage tells nobody itself: its area outages notify their own customers.</summary>
    private static OutageRecord Owe(OutageRecord next, NoticeKind kind, DateTimeOffset now) =>
        next.Scope == OutageScope.Feeder
            ? next with { CustomersTold = true }
            : next with
            {
                CustomersTold = true,
                NoticesOwed = [.. next.NoticesOwed, new OutageNotice(kind, next.Id, kind == NoticeKind.RestorationEstimateChanged ? next.EtrRevision : 1, now,
                    next.StartedAt, next.EstimatedRestorationAt, next.Cause)
                {
                    // Meters still dark after their area came back: their customers' outage goes on, it is not a new one.
                    StillOutAfterArea = kind == NoticeKind.OutageDetected && next.IsNested && !next.WholeAreaStillDark,
                }],
                // What the customers were last told of the estimate (the outage's first notice carries it too).
                EtrToldAt = kind == NoticeKind.PowerRestored ? next.EtrToldAt : now,
                EtrTold = kind == NoticeKind.PowerRestored ? next.EtrTold : next.EstimatedRestorationAt,
                CauseTold = kind == NoticeKind.PowerRestored ? next.CauseTold : next.Cause,
                EtrNoticeHeld = kind != NoticeKind.PowerRestored && next.EtrNoticeHeld,
            };

    private async Task Commit(OutageRecord next, IReadOnlyList<JournalEvent> events, ReminderChange? reminder = null)
    {
        var previous = O;
        if (next.DetectedNoticeHeldUntil is { } heldUntil && previous.DetectedNoticeHeldUntil != heldUntil)
        {
            // Held in this write (an opening or a confirmation, which set no other reminder): woken to tell it.
            reminder = ReminderChange.Set(DetectedNoticeReminder, heldUntil, TimeSpan.Zero);
        }
        state.State = next with { UpdatedAt = TimeProvider.GetUtcNow(), Version = previous.Version + 1 };
        try
        {
            await (reminder is { } wakeUp ? state.WriteStateAsync(events, wakeUp) : state.WriteStateAsync(events));
        }
        catch
        {
            state.State = previous;
            throw;
        }
        _record.Written();
        await SettleOwed();
    }

    /// <summary>Does what the stored record says is owed; each call is idempotent, so doing it twice after a crash is
    /// harmless. The cleared flags are written behind.</summary>
    private async Task SettleOwed()
    {
        var o = O;
        if (!o.IsOwing)
        {
            return;
        }
        MarkDirty();
        if (o.EarlierCallsOwed.Count > 0)
        {
            // Before the repair order is made: a crew the calls held is free for it.
            await Task.WhenAll(o.EarlierCallsOwed.Select(order => GrainFactory.GetGrain<IWorkOrderGrain>(order).JoinOutage(o.Id)));
            o = o with { EarlierCallsOwed = [] };
        }
        if (o.RepairOrderOwed)
        {
            await CreateRepairOrder(o);
            o = o with { RepairOrderOwed = false };
        }
        if (o.RepairMergeOwed is { } feederOrder && o.OwnsRepairOrder && o.RepairOrderId is { } ownOrder)
        {
            // Folded, the feeder outage's order is the one that fixes this area: the outage names it from now on (its
            // own order is Merged, a dead end for a dispatcher following it). A crew already on its own order keeps it.
            var folded = await FoldRepairOrder(ownOrder, feederOrder);
            o = o with { RepairMergeOwed = null, RepairOrderId = folded ? feederOrder : ownOrder };
        }
        if (o.PlannedAreasOwed && o.State != OutageState.Restored)
        {
            await Task.WhenAll(o.TransformerAreaIds.Select(area => GrainFactory.GetGrain<IAreaPowerGrain>(area).PlannedOutageStarted(o.Id)));
        }
        if (o.RepairCancelOwed && o.RepairOrderId is { } repair)
        {
            await CancelUnstartedRepair(repair);
        }
        if (o.OpenerOwed)
        {
            // Before the children: the feeder forgets this outage first, so their areas ending do not restore it again
            // (a call back into this grain, busy in this very turn).
            await TellOpener(o);
        }
        if (o.ChildrenRestoreOwed is { } restoredBy)
        {
            foreach (var child in o.Children)
            {
                await GrainFactory.GetGrain<IOutageGrain>(child).Restore(restoredBy);
            }
        }
        if (o.EmergencyOwed && o.RepairOrderId is { } repairOrder)
        {
            await GrainFactory.GetGrain<IWorkOrderGrain>(repairOrder).RaisePriority(WorkOrderPriority.Emergency, "system", $"a critical customer is cut by outage {o.Id}");
        }
        if (o.ChildEtrOwed is { } etr)
        {
            await Task.WhenAll(o.Children.Select(child => PassEstimate(child, etr)));
        }
        if (o.IndicatorsOwed)
        {
            await ReportRestoration(o);
        }
        if (o.BoardOwed)
        {
            await GrainFactory.GetGrain<IOutageBoardGrain>(OutageBoardGrain.Key).Update(OutageSummary.Of(o));
        }
        state.State = o with
        {
            EarlierCallsOwed = [], PlannedAreasOwed = false, RepairCancelOwed = false, OpenerOwed = false, ChildrenRestoreOwed = null,
            ChildEtrOwed = null, EmergencyOwed = false, BoardOwed = false, IndicatorsOwed = false,
        };
        MarkDirty();
    }

    /// <summary>A feeder's estimate for one of its areas' outages; an area back already (the outage's 409) has
    /// nothing to be told, nor has any once the estimate has passed.</summary>
    private async Task PassEstimate(string child, EtrChange etr)
    {
        if (etr.At <= TimeProvider.GetUtcNow())
        {
            return;
        }
        try
        {
            await GrainFactory.GetGrain<IOutageGrain>(child).SetEstimatedRestoration(etr.At, etr.Actor, etr.Cause);
        }
        catch (DomainConflictException)
        {
            // restored
        }
    }

    private async Task CreateRepairOrder(OutageRecord o)
    {
        var order = GrainFactory.GetGrain<IWorkOrderGrain>(o.RepairOrderId!);
        if (await order.Get() is not null)
        {
            return;
        }
        var critical = o.ImportantCustomers.Any(c => c.Importance == CustomerImportance.Critical);
        await order.Create(new NewWorkOrder(
            WorkOrderKind.FaultRepair,
            IntakeChannel.Meter,
            "system",
            $"Outage {o.Id}: {o.AffectedCustomers} customers without supply ({string.Join(", ", o.TransformerAreaIds.Take(5))}{(o.TransformerAreaIds.Count > 5 ? ", …" : "")})",
            critical ? WorkOrderPriority.Emergency : WorkOrderPriority.High,
            TransformerAreaId: o.TransformerAreaIds.Count == 1 ? o.TransformerAreaIds[0] : null,
            Region: o.Region,
            Location: o.Location,
            AreaClass: o.AreaClass,
            OutageId: o.Id));
    }

    /// <summary>An area's repair order folds into its feeder outage's, unless a crew already works on it. True when it
    /// is folded (now, or before a crash cut the outage's record short).</summary>
    private async Task<bool> FoldRepairOrder(string ownOrder, string feederOrder)
    {
        var order = GrainFactory.GetGrain<IWorkOrderGrain>(ownOrder);
        switch (await order.Get())
        {
            case { State: WorkOrderState.Merged } merged:
                return merged.MergedInto == feederOrder;
            case { } view when WorkOrderTransitions.TryNext(view.State, WorkOrderAction.Merge, out _):
                await order.Apply(new WorkOrderCommand(WorkOrderAction.Merge, "system", Note: "feeder outage", TargetId: feederOrder));
                return true;
            default:
                return false;
        }
    }

    /// <summary>Supply came back before a crew took the repair: the order is withdrawn. A crew already on it finishes.</summary>
    private async Task CancelUnstartedRepair(string repair)
    {
        var order = GrainFactory.GetGrain<IWorkOrderGrain>(repair);
        if (await order.Get() is { } view && view.State is WorkOrderState.Created or WorkOrderState.Dispatched or WorkOrderState.Reserved or WorkOrderState.Rejected)
        {
            await order.Apply(new WorkOrderCommand(WorkOrderAction.Cancel, "system", Note: $"supply restored ({Id})"));
        }
    }

    /// <summary>Tells the region's indicators who was out and for how long. Meters still dark after their area came
    /// back continue the area's interruption: only the minutes after the area's restoration are theirs. If the area's
    /// outage was a blink (counted as no interruption, no minutes), theirs is the interruption, from the area's start.</summary>
    private async Task ReportRestoration(OutageRecord o)
    {
        var nested = o.IsNested;
        var from = o.StartedAt;
        var interruption = !nested;
        if (nested && await GrainFactory.GetGrain<IOutageGrain>(o.ParentOutageId!).Get() is { RestoredAt: { } areaRestored } area)
        {
            if (IsMomentary(area.Kind, area.Scope, nested: false, area.StartedAt, areaRestored))
            {
                // A blink for the area, not for them: counted nowhere else, their interruption began with the area's.
                (from, interruption) = (area.StartedAt, true);
            }
            else if (areaRestored > from)
            {
                from = areaRestored;
            }
        }
        // Customers a partial outage of the area had cut before this one are that outage's interruption, counted there:
        // counted here again, a street's fuse and then its transformer made 23 interruptions of 20 customers.
        var customers = nested ? o.AffectedCustomers : Math.Max(0, o.AffectedCustomers - o.CustomersAlreadyOut);
        var restoredAt = o.RestoredAt ?? TimeProvider.GetUtcNow();
        var fact = new OutageFact(o.Id, o.Kind, o.TransformerAreaIds, customers, from, restoredAt, interruption, IsMomentary(o, restoredAt));
        await Task.WhenAll(IndicatorScopes.Of(GrainFactory, o.Region).Select(scope => scope.OutageRestored(fact)));
    }

    /// <summary>An unplanned outage of an area or meters restored within <see cref="OutageOptions.MomentaryAtMost"/> of
    /// its start: a blink (a recloser's trip and close) that became an outage only because its last gasps and restores
    /// came in separate batches.</summary>
    private bool IsMomentary(OutageRecord o, DateTimeOffset restoredAt) => IsMomentary(o.Kind, o.Scope, o.IsNested, o.StartedAt, restoredAt);

    private bool IsMomentary(OutageKind kind, OutageScope scope, bool nested, DateTimeOffset startedAt, DateTimeOffset restoredAt) =>
        MayBeMomentary(kind, scope, nested) && restoredAt - startedAt <= options.MomentaryAtMost;

    /// <summary>An outage of the kind that ends as a blink: unplanned, of an area or meters, not meters still dark after
    /// their area's outage (that one goes on).</summary>
    private static bool MayBeMomentary(OutageRecord o) => MayBeMomentary(o.Kind, o.Scope, o.IsNested);

    private static bool MayBeMomentary(OutageKind kind, OutageScope scope, bool nested) =>
        kind == OutageKind.Unplanned && scope != OutageScope.Feeder && !nested;

    private Task TellOpener(OutageRecord o) => o switch
    {
        { Kind: OutageKind.Planned } => Task.WhenAll(o.TransformerAreaIds.Select(area =>
            GrainFactory.GetGrain<IAreaPowerGrain>(area).OutageEnded(o.Id, o.RestoredAt ?? TimeProvider.GetUtcNow()))),
        { Scope: OutageScope.Feeder, FeederId: { } feeder } => GrainFactory.GetGrain<IFeederPowerGrain>(feeder).FeederOutageEnded(o.Id),
        { Scope: OutageScope.Feeder } => Task.CompletedTask,
        _ => GrainFactory.GetGrain<IAreaPowerGrain>(o.TransformerAreaIds[0]).OutageEnded(o.Id, o.RestoredAt ?? TimeProvider.GetUtcNow()),
    };

    /// <summary>Who is told "power restored": the customers of the areas that have answered, but those whose meters still
    /// report no power (told once they are back, or by their nested outage). Told again as more areas answer, the notice
    /// reaches only the customers not told yet (the outbox keeps one per customer and event).</summary>
    private NoticeAudience RestoredAudience()
    {
        var areas = O.RestoredNoticeAwaits.Count == 0 ? O.TransformerAreaIds : [.. O.TransformerAreaIds.Except(O.RestoredNoticeAwaits)];
        List<string>? except = O.DarkAtRestoreByArea is { Count: > 0 } dark ? [.. dark.Values.SelectMany(meters => meters)] : null;
        if (O.RestoredNoticeOwedTo.Count > 0)
        {
            (except ??= []).AddRange(O.RestoredNoticeOwedTo); // told right after, with the "late" list
        }
        return new NoticeAudience(areas, O.MeterIds, except);
    }

    private JournalEvent Event(string type, string actor, DateTimeOffset at, object payload) =>
        new(JournalStreams.Outage(Id), type, at, actor, null, JsonSerializer.Serialize(payload, PayloadJson));

    private void MarkDirty() => _record.Changed();

    private Task Flush() => _record.FlushAsync();

    /// <summary>Owed notices go out here, at most a second after the change, not inside the call that caused it: on a
    /// storm day the meters' ingestion path must not wait for a million customers' notices to be written.</summary>
    private async Task WriteBehindAsync()
    {
        // A "detected" notice held while the outage may be a blink stays owed (its reminder releases it).
        bool Due(OutageNotice notice) => O.DetectedNoticeHeldUntil is null || notice.Kind != NoticeKind.OutageDetected;
        if (O.NoticesOwed.Any(Due))
        {
            foreach (var notice in O.NoticesOwed.Where(Due))
            {
                await notices.EnqueueAsync(notice, notice.Kind == NoticeKind.PowerRestored ? RestoredAudience() : new NoticeAudience(O.TransformerAreaIds, O.MeterIds));
            }
            state.State = O with { NoticesOwed = [.. O.NoticesOwed.Where(n => !Due(n))] };
        }
        if (O.RestoredNoticeOwedTo is { Count: > 0 } late)
        {
            var restored = new OutageNotice(NoticeKind.PowerRestored, Id, 1, TimeProvider.GetUtcNow(), O.StartedAt, O.EstimatedRestorationAt, O.Cause);
            await notices.EnqueueAsync(restored, new NoticeAudience(O.TransformerAreaIds, late));
            state.State = O with { RestoredNoticeOwedTo = [] };
        }
        // Calls merged since the last count told: one event for all of them (the console and the board show the
        // count; a storm's 100,000 calls do not each make a write and a push).
        var merged = O.Exists && O.MergedCalls != O.MergedCallsAnnounced;
        if (merged)
        {
            var now = TimeProvider.GetUtcNow();
            var events = new[] { Event("CallsMerged", "system", now, new { O.MergedCalls, New = O.MergedCalls - O.MergedCallsAnnounced }) };
            var announced = O.MergedCallsAnnounced;
            state.State = O with { MergedCallsAnnounced = O.MergedCalls, UpdatedAt = now, Version = O.Version + 1 };
            try
            {
                await state.WriteStateAsync(events);
            }
            catch
            {
                state.State = O with { MergedCallsAnnounced = announced }; // told with the next flush
                throw;
            }
            await GrainFactory.GetGrain<IOutageBoardGrain>(OutageBoardGrain.Key).Update(OutageSummary.Of(O));
            return;
        }
        await state.WriteStateAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outage {Outage} opened: {Scope}, {State}, {Customers} customers")]
    private static partial void LogOpened(ILogger logger, string outage, OutageScope scope, OutageState state, int customers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outage {Outage} restored by {Actor} after {Duration}")]
    private static partial void LogRestored(ILogger logger, string outage, string actor, TimeSpan duration);
}

internal sealed record OutageRecord
{
    public bool Exists { get; init; }
    public string Id { get; init; } = "";
    public OutageKind Kind { get; init; }
    public OutageScope Scope { get; init; }
    public OutageState State { get; init; }
    public string Region { get; init; } = "";
    public string? FeederId { get; init; }
    public IReadOnlyList<string> TransformerAreaIds { get; init; } = [];
    public IReadOnlyList<string>? MeterIds { get; init; }
    public int AffectedCustomers { get; init; }

    /// <summary>Customers in another outage of the area when this one opened (see <see cref="OutageOpening"/>).</summary>
    public int CustomersAlreadyOut { get; init; }
    public IReadOnlyList<KeyCustomer> ImportantCustomers { get; init; } = [];
    public GeoPoint Location { get; init; }
    public AreaClass AreaClass { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? EstimatedRestorationAt { get; init; }
    public int EtrRevision { get; init; }
    public string? EtrSetBy { get; init; }
    public string? Cause { get; init; }
    public string? RepairOrderId { get; init; }

    /// <summary>The repair order is this outage's own (not its feeder outage's, which it only shares): only its own is
    /// folded into a feeder's or cancelled on restoration.</summary>
    [JsonIgnore]
    public bool OwnsRepairOrder => RepairOrderId is not null && RepairOrderId == OutageGrain.RepairOrderOf(Id);
    public string? CrewId { get; init; }
    public string? ParentOutageId { get; init; }

    /// <summary>Meters still dark after their area came back: the area's interruption going on for their customers.</summary>
    [JsonIgnore]
    public bool IsNested => Scope == OutageScope.Meters && ParentOutageId is not null;

    /// <summary>A nested outage of every meter of its area: the area's outage ended on paper only.</summary>
    public bool WholeAreaStillDark { get; init; }
    public IReadOnlyList<string> Children { get; init; } = [];
    public int MergedCalls { get; init; }

    /// <summary>The calls counted in <see cref="MergedCalls"/> lately (order, Unix milliseconds), so that a call told
    /// again after a crash is counted once: every call counted since <see cref="CountedSince"/> is here.</summary>
    public IReadOnlyList<CountedCall> RecentCalls { get; init; } = [];

    /// <summary>From when (Unix milliseconds) <see cref="RecentCalls"/> holds every counted call; null in records stored
    /// before it was kept (a recovered call is then not counted again).</summary>
    public long? CountedSince { get; init; }

    /// <summary><see cref="MergedCalls"/> as last journaled and put on the board (the count is told behind).</summary>
    public int MergedCallsAnnounced { get; init; }
    public DateTimeOffset? RestoredAt { get; init; }
    public bool CustomersTold { get; init; }

    /// <summary>When the customers were last told the estimate (the outage's first notice, or a change), what it was,
    /// and the cause told with it.</summary>
    public DateTimeOffset? EtrToldAt { get; init; }
    public DateTimeOffset? EtrTold { get; init; }
    public string? CauseTold { get; init; }

    /// <summary>An estimate change not yet told: the customers were told one less than
    /// <see cref="OutageOptions.EtrNoticeInterval"/> ago; the outage's reminder tells the latest when it has passed.</summary>
    public bool EtrNoticeHeld { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public int Version { get; init; }

    // Owed after the write that set them (see OutageGrain.SettleOwed).
    public bool PlannedAreasOwed { get; init; }
    public bool RepairOrderOwed { get; init; }
    public string? RepairMergeOwed { get; init; }
    public bool RepairCancelOwed { get; init; }
    public bool OpenerOwed { get; init; }
    public bool BoardOwed { get; init; }
    public bool IndicatorsOwed { get; init; }

    /// <summary>A planned outage restored on the map before its close-out: the indicators wait for the close-out's
    /// actual end.</summary>
    public bool IndicatorsHeld { get; init; }

    /// <summary>Who restored this feeder outage, when its area outages are to be restored with it.</summary>
    public string? ChildrenRestoreOwed { get; init; }

    /// <summary>An estimate set on this feeder outage, still to be passed to its area outages.</summary>
    public EtrChange? ChildEtrOwed { get; init; }

    /// <summary>A critical customer joined (an area went out under this feeder outage): its repair order is to be raised
    /// to Emergency.</summary>
    public bool EmergencyOwed { get; init; }
    public IReadOnlyList<OutageNotice> NoticesOwed { get; init; } = [];

    /// <summary>Until when the "detected" notice in <see cref="NoticesOwed"/> waits: the outage may still be a blink
    /// (see <see cref="OutageOptions.MomentaryAtMost"/>). Null when nothing is held.</summary>
    public DateTimeOffset? DetectedNoticeHeldUntil { get; init; }

    /// <summary>Meters still dark when this outage ended, by transformer area (the area's meters ended it, or the area
    /// answered a restoration by someone else): left out of its "power restored" until the nested-outage check says
    /// which came back; the ones still dark then stay left out (their nested outage tells them).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? DarkAtRestoreByArea { get; init; }

    /// <summary>The one list of a record stored before meters were kept by area; moved to <see cref="DarkAtRestoreByArea"/>
    /// on activation, never written.</summary>
    [JsonPropertyName("DarkAtRestore")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? DarkAtRestoreStoredBefore { get; init; }

    /// <summary>Areas that have not yet said which of their meters were still dark when a crew, a dispatcher or a
    /// close-out restored this outage: their customers' "power restored" waits for that (at most
    /// <see cref="OutageGrain.RestoredNoticeWait"/>).</summary>
    public IReadOnlyList<string> RestoredNoticeAwaits { get; init; } = [];

    /// <summary>Meters that came back in the grace period, owed the "power restored" the others had.</summary>
    public IReadOnlyList<string> RestoredNoticeOwedTo { get; init; } = [];

    /// <summary>Fault calls made shortly before the outage was inferred, to fold into it.</summary>
    public IReadOnlyList<string> EarlierCallsOwed { get; init; } = [];

    [JsonIgnore]
    public bool IsOwing => EarlierCallsOwed.Count > 0 || PlannedAreasOwed || RepairOrderOwed || RepairMergeOwed is not null || RepairCancelOwed || OpenerOwed || ChildrenRestoreOwed is not null || ChildEtrOwed is not null || EmergencyOwed || BoardOwed || IndicatorsOwed || NoticesOwed.Count > 0 || RestoredNoticeOwedTo.Count > 0;

    public OutageView ToView() => new(
        Id, Kind, Scope, State, Region, FeederId, TransformerAreaIds, MeterIds, AffectedCustomers, ImportantCustomers, Location,
        StartedAt, EstimatedRestorationAt, Cause, RepairOrderId, CrewId, ParentOutageId, MergedCalls, RestoredAt, UpdatedAt, Version,
        CustomersAlreadyOut);
}

/// <summary>An estimated restoration as set on a feeder outage, for its area outages.</summary>
internal sealed record EtrChange(DateTimeOffset At, string Actor, string? Cause);

/// <summary>A merged call counted by its outage: the order and when (Unix milliseconds).</summary>
internal sealed record CountedCall(string OrderId, long At);
