using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using PowerService.Grains.Ami;
using PowerService.Grains.Energy;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Grains.Outages;

/// <summary>Keeps, per meter of one area, when it went dark and the newest event applied; infers the area outage from
/// the dark share inside the inference window, confirms it when more go dark, restores it when most come back, and
/// opens a nested outage for meters still dark after the grace period.
/// The meter flags are a state of their own, written behind (<see cref="OutageOptions.MeterFlagsWriteBehind"/> after a
/// change, through the store's background loop): what a crash loses of them the ingestion's meter event log replays
/// (<see cref="MeterEventLog"/>). The area's record — its
/// outage and the calls it owes — is never behind: opening and ending an outage are written before the outage and
/// feeder grains are called, and repeated on activation if those calls did not complete. Kept apart, a decision's
/// write is a few hundred bytes instead of every meter's flags (in a 1,000,000-meter storm, 20,000 decisions at once
/// each carried ~2.5 KB of flags through the writes callers wait on).
/// An area outage is handed to the feeder one-way: the meter events that inferred it are applied once the area's
/// decision is stored, not after the outage, its repair order and the feeder roll-up are settled (in a storm, thousands
/// of areas open at once and each batch of events touches most of them). Until the feeder acknowledges the opening,
/// the area's other calls to the outage wait, so that they reach it after it is open.</summary>
[GrainType(TopologyGrainTypes.AreaPower)]
internal sealed partial class AreaPowerGrain(
    IPersistentState<AreaPowerRecord> state,
    [PersistentState("meters")] IPersistentState<AreaMeterFlags> flags,
    OutageOptions options,
    PlannedOutageOptions plannedOptions,
    ILogger<AreaPowerGrain> logger)
    : Grain, IAreaPowerGrain, IRemindable
{
    internal const string MetersActor = "meters";
    private const string NestedCheck = "nested-check";

    /// <summary>Wakes the area when a planned outage its meters started has not said it opened (see
    /// <see cref="AreaPowerRecord.PlanStarting"/>).</summary>
    private const string PlanStartCheck = "plan-start-check";

    /// <summary>How long the area absorbs last gasps into a planned outage its meters started before it opens an
    /// unplanned outage instead (the plan was cancelled meanwhile, or refused the start).</summary>
    private static readonly TimeSpan PlanStartWait = TimeSpan.FromMinutes(1);

    /// <summary>How soon after a call from a dark meter the area judges whether it is a partial outage.</summary>
    private static readonly TimeSpan PartialOutageDelay = TimeSpan.FromSeconds(1);
    private const int EarlierCallsKept = 64;

    private TransformerAreaMeters? _area;
    private WriteBehind _meterFlags = null!;
    private WriteBehind _record = null!;
    private IDisposable? _handOverRetry;
    private IDisposable? _partialCheck;

    private AreaPowerRecord S => state.State;

    private MeterFlagTable Meters => flags.State.Meters;

    private string Id => GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _meterFlags = WriteBehind.InBackground(
            () => flags.WriteStateInBackgroundAsync(), RegisterTimer, options.MeterFlagsWriteBehind, error => LogFlagsNotWritten(logger, error, Id));
        // What the area's record changes without a decision (owed calls made) is written behind too: a lost one is
        // made again on activation, and every owed call is idempotent.
        _record = WriteBehind.InBackground(
            () => state.WriteStateInBackgroundAsync(), RegisterTimer, options.MeterFlagsWriteBehind, error => LogFlagsNotWritten(logger, error, Id));
        if (S.MetersStoredBefore is { } before)
        {
            // A record stored before the flags had their own state: they move there, unless that was written since.
            if (!flags.RecordExists)
            {
                MoveIn(before);
            }
            S.MetersStoredBefore = null;
            _record.Changed();
        }
        if (flags.State.ByIdStoredBefore is { } byId)
        {
            // Flags stored keyed by meter id, before they were keyed by its hash.
            MoveIn(byId);
            flags.State.ByIdStoredBefore = null;
        }
        if (S.NestedOutageIdStoredBefore is { } legacy)
        {
            // Stored when an area held one nested outage.
            S.Nested.Add(new NestedOutage(legacy, S.NestedMetersStoredBefore ?? []));
            S.NestedOutageIdStoredBefore = null;
            S.NestedMetersStoredBefore = null;
            _record.Changed();
        }
        _area = await GrainFactory.GetGrain<ITransformerAreaGrain>(Id).GetMeters();
        // Room for every meter of the area at once: grown one report at a time, the flags were copied four times
        // (3, 7, 17, 37, 79 entries for 50 meters), and a storm's last growth — 20,000 areas at once, late in the burst
        // — was the bulk of what each collection had to promote.
        Meters.EnsureCapacity(_area?.MeterCount ?? 0);
        if (_area is not null && flags.State.DarkCount > 0)
        {
            await ForgetMetersMovedAway();
        }
        await SettleOwedCalls();
        if (S.PlanStarting is { } plan && S.OutageId is null && S.PlanStartingAt is { } darkSince)
        {
            // Stored with the decision, the start may not have reached the plan before a crash: told again (a plan
            // started already ignores it).
            await GrainFactory.GetGrain<IPlannedOutageGrain>(plan).StartedByMeters(darkSince);
        }
    }

    /// <summary>Meters an import moved to another area while dark report to that area from then on: their flags here
    /// are not this area's dark meters any more. Counted, they held the area's outage open after every meter it has
    /// came back (and three minutes later its customers, whose power was back, were texted of a nested outage). The
    /// area is activated anew after an import of meters or areas, so this runs then; only an area with dark meters
    /// reads its meter list.</summary>
    private async Task ForgetMetersMovedAway()
    {
        var current = (await GrainFactory.GetGrain<ITransformerAreaGrain>(Id).GetMeterIds()).Select(MeterFlagTable.KeyOf).ToHashSet();
        if (Meters.ForgetDarkExcept(current) > 0)
        {
            _meterFlags.Changed();
        }
    }

    private void MoveIn(Dictionary<string, MeterPower> byId)
    {
        Meters.EnsureCapacity(Meters.Count + byId.Count);
        foreach (var (meterId, meter) in byId)
        {
            Meters.GetOrAdd(meterId) = meter;
        }
        _meterFlags.Changed();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _meterFlags.FlushAsync();
        await _record.FlushAsync();
    }

    public async Task<PowerReport> ReportMeterEvents(IReadOnlyList<MeterEvent> events)
    {
        if (_area is null)
        {
            return new PowerReport(0, events.Count);
        }
        var applied = 0;
        var darkSinceInferred = false; // last gasps applied since the area last judged its meters
        long lastRestored = 0; // the meters' own time of the latest that came back, 0 when none did
        List<MeterEvent>? readings = null;
        foreach (var e in InTimeOrder(events))
        {
            if (e.Type == MeterEventType.Reading)
            {
                // The energy grain keeps its own per-reading identity: even a stale reading belongs to its period.
                (readings ??= []).Add(e);
            }
            var at = e.At.ToUnixTimeMilliseconds();
            var eventHash = StableHash.Of(e.EventId);
            if (darkSinceInferred && e.Type != MeterEventType.LastGasp && Meters.TryGet(e.MeterId, out var before) && before.DarkSince != 0
                && After(e.Type, at, eventHash, before))
            {
                // A backlog (a head-end whose link to the meters came back sends the last gasps and the restores of an
                // hour ago in one batch): the area judges the dark meters before the first of them comes back. Judged
                // only at the end, no meter was dark any more, and the hour-long outage was never recorded (SAIDI half).
                _meterFlags.Changed();
                await InferAsync(lastRestored == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(lastRestored));
                darkSinceInferred = false;
                lastRestored = 0;
            }
            ref var meter = ref Meters.GetOrAdd(e.MeterId);
            if (!After(e.Type, at, eventHash, meter))
            {
                continue;
            }
            darkSinceInferred |= e.Type == MeterEventType.LastGasp;
            var wasDark = meter.DarkSince != 0;
            meter = e.Type == MeterEventType.LastGasp
                ? meter with { LastAt = at, LastEvent = eventHash, DarkSince = meter.DarkSince == 0 ? at : meter.DarkSince }
                : meter with { LastAt = at, LastEvent = eventHash, DarkSince = 0 };
            if (wasDark && meter.DarkSince == 0)
            {
                lastRestored = Math.Max(lastRestored, at);
            }
            applied++;
        }
        if (applied > 0)
        {
            _meterFlags.Changed();
            await InferAsync(lastRestored == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(lastRestored));
        }
        if (readings is not null)
        {
            await GrainFactory.GetGrain<IAreaEnergyGrain>(Id).RecordReadings(readings);
        }
        return new PowerReport(applied, events.Count - applied);
    }

    /// <summary>Whether an event comes after the last one the meter applied, in one total order — time, then power on
    /// over power off, then event id — so that the meter ends the same whatever order its events arrive in, and
    /// replaying the log over flags already flushed changes nothing. Power wins a tie: a recloser's blink, its last gasp
    /// and its restore stamped to the same second by the head-end, is not an outage. The last event's kind is known from
    /// the flags: a dark meter's was a last gasp.</summary>
    private static bool After(MeterEventType type, long at, ulong eventHash, MeterPower meter)
    {
        if (at != meter.LastAt)
        {
            return at > meter.LastAt;
        }
        var powered = type != MeterEventType.LastGasp;
        var wasPowered = meter.DarkSince == 0;
        return powered != wasPowered ? powered : eventHash > meter.LastEvent;
    }

    /// <summary>The events oldest first; a head-end batch usually is already, and then is not copied.</summary>
    private static IEnumerable<MeterEvent> InTimeOrder(IReadOnlyList<MeterEvent> events)
    {
        for (var i = 1; i < events.Count; i++)
        {
            if (events[i].At < events[i - 1].At)
            {
                return events.OrderBy(e => e.At);
            }
        }
        return events;
    }

    public Task<FaultCallClassification> ClassifyFaultCall(string meterId, string orderId)
    {
        if (S.OutageId is { } outage)
        {
            return Task.FromResult(new FaultCallClassification(FaultCallVerdict.InOutage, outage));
        }
        if (S.Nested.Find(n => n.Meters.Contains(meterId)) is { } nested)
        {
            return Task.FromResult(new FaultCallClassification(FaultCallVerdict.InOutage, nested.OutageId));
        }
        var now = TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        if (Meters.TryGet(meterId, out var meter) && meter.DarkSince == 0 && meter.LastAt > 0
            && now - meter.LastAt <= (long)options.PowerOnEvidence.TotalMilliseconds)
        {
            // Remembered too: the head-end's last gasps may come a minute after the call, stamped before it (the
            // transformer tripped, the customer called, then the backlog arrived). The meter was dark when its customer
            // called, the verdict was wrong, and the call folds into the outage (it stayed a crew's job of its own).
            RememberCall(new EarlierCall(orderId, meterId, now, MeterOn: true));
            return Task.FromResult(new FaultCallClassification(FaultCallVerdict.MeterOn));
        }
        RememberCall(new EarlierCall(orderId, meterId, now));
        if (meter.DarkSince != 0 && S.OpeningOwed is null && S.PlanStarting is null)
        {
            // After this call is answered (the outage it may open folds this very order in, which waits on this turn).
            _partialCheck ??= RegisterTimer(_ => JudgePartialOutage(), PartialOutageDelay, TimeSpan.Zero);
        }
        return Task.FromResult(new FaultCallClassification(FaultCallVerdict.Unknown));
    }

    public Task<string?> CallRecovered(string meterId, string orderId, DateTimeOffset calledAt)
    {
        var at = calledAt.ToUnixTimeMilliseconds();
        var window = (long)options.CallsBeforeOutage.TotalMilliseconds;
        if (S.OutageId is { } outage)
        {
            // Folded as the outage's earlier calls are: an unplanned outage that began within the window after the call.
            return Task.FromResult(!S.OutageIsPlanned && (S.OutageSince is not { } since || since - at <= window) ? outage : null);
        }
        if (S.EarlierCalls?.Exists(c => c.OrderId == orderId) == true || TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() - at > window)
        {
            return Task.FromResult<string?>(null);
        }
        RememberCall(new EarlierCall(orderId, meterId, at));
        return Task.FromResult<string?>(null);
    }

    /// <summary>A customer whose meter is dark calls, and meters around it went dark with it, too few for the area to
    /// suspect an outage (a fuse of one street, one phase): that is a partial outage. It is opened for those meters
    /// (scope Meters, confirmed by the call, its own repair order) and the calls of its customers merge into it. Before,
    /// twenty callers of ten dark meters were twenty repair orders for one blown fuse.</summary>
    private async Task JudgePartialOutage()
    {
        _partialCheck?.Dispose();
        _partialCheck = null;
        if (S.OutageId is not null || S.OpeningOwed is not null || S.PlanStarting is not null || S.EarlierCalls is not { Count: > 0 } calls)
        {
            return;
        }
        var window = (long)options.InferenceWindow.TotalMilliseconds;
        var dark = OutsideNested((await StillDark(cutoff: long.MaxValue)).Meters);
        foreach (var call in calls.Where(c => Meters.TryGet(c.MeterId, out var m) && m.DarkSince != 0).Reverse())
        {
            // The meters that went dark with the caller's: a meter dark for days (disconnected) is not this fault.
            Meters.TryGet(call.MeterId, out var caller);
            var with = dark.Where(id => Meters.TryGet(id, out var m) && Math.Abs(m.DarkSince - caller.DarkSince) <= window).ToList();
            if (with.Count < Math.Max(options.MinimumDarkMeters, 2))
            {
                continue;
            }
            LogPartial(logger, Id, await OpenMetersOutage(with, FirstDark(with), parentOutageId: null), with.Count);
            return;
        }
    }

    /// <summary>Keeps an unknown call for the outage that may be inferred soon after it (written behind: a call lost by
    /// a crash is one more crew sent, never a lost order). Calls older than the window are dropped, and an area keeps
    /// at most <see cref="EarlierCallsKept"/>.</summary>
    private void RememberCall(EarlierCall call)
    {
        var calls = S.EarlierCalls ??= [];
        // In time order (one recovered after a crash is older than those made since), the oldest dropped first.
        calls.Insert(calls.FindLastIndex(c => c.At <= call.At) + 1, call);
        calls.RemoveAll(c => c.At < calls[^1].At - (long)options.CallsBeforeOutage.TotalMilliseconds);
        if (calls.Count > EarlierCallsKept)
        {
            calls.RemoveAt(0);
        }
        MarkDirty();
    }

    /// <summary>The remembered calls an outage starting at <paramref name="startedAt"/> folds in — of the meters in
    /// <paramref name="meters"/> only, when it is a nested outage — taken out of the area's record.</summary>
    private List<string>? TakeEarlierCalls(long startedAt, IReadOnlyCollection<string>? meters = null)
    {
        if (S.EarlierCalls is not { Count: > 0 } calls)
        {
            return null;
        }
        var from = startedAt - (long)options.CallsBeforeOutage.TotalMilliseconds;
        var taken = calls.Where(c => c.At >= from && (meters is null || meters.Contains(c.MeterId)) && (!c.MeterOn || DarkWhenCalled(c))).ToList();
        calls.RemoveAll(c => c.At < from || taken.Contains(c));
        if (calls.Count == 0)
        {
            S.EarlierCalls = null;
        }
        return taken.Count == 0 ? null : taken.ConvertAll(c => c.OrderId);
    }

    /// <summary>A call judged "meter on" whose meter, as events arrived since, was dark when the customer called.</summary>
    private bool DarkWhenCalled(EarlierCall call) => Meters.TryGet(call.MeterId, out var meter) && meter.DarkSince != 0 && meter.DarkSince <= call.At;

    public Task<bool> IsDark(string meterId) => Task.FromResult(Meters.TryGet(meterId, out var meter) && meter.DarkSince != 0);

    public Task<AreaPowerView> Get() => Task.FromResult(new AreaPowerView(
        Id,
        _area?.MeterCount ?? 0,
        flags.State.DarkCount,
        S.OutageId,
        S.Nested.Count == 0 ? null : S.Nested[^1].OutageId,
        LastHeardFrom(),
        S.RestoredAt + options.NestedOutageGrace,
        S.OpeningOwed is not null));

    public async Task OutageEnded(string outageId, DateTimeOffset restoredAt)
    {
        if (S.OutageId == outageId)
        {
            await EndAreaOutage(restoredAt);
        }
        else if (S.Nested.RemoveAll(n => n.OutageId == outageId) > 0)
        {
            await state.WriteStateAsync();
            _record.Written();
        }
        else
        {
            // Not (or no longer) this area's outage: its customers' "power restored" still waits for the answer (were
            // it lost, the outage tells them after a minute without it).
            await GrainFactory.GetGrain<IOutageGrain>(outageId).DarkAtRestoration(Id, (await StillDark(cutoff: long.MaxValue)).Meters);
        }
    }

    public async Task PlannedOutageStarted(string outageId)
    {
        if (S.OutageId is not null)
        {
            return;
        }
        S.OutageSince = (S.PlanStartingAt ?? TimeProvider.GetUtcNow()).ToUnixTimeMilliseconds();
        S.PlanStarting = null;
        S.OutageId = outageId;
        S.OutageConfirmed = true;
        S.OutageIsPlanned = true;
        await state.WriteStateAsync();
        _record.Written();
    }

    public async Task OutageOpened(string outageId)
    {
        if (S.OpeningOwed is null || OwedOutageId() != outageId)
        {
            return; // a repeated acknowledgement
        }
        S.OpeningOwed = null;
        S.OpeningOutageId = null;
        StopHandOverRetry();
        MarkDirty();
        await SettleOwedCalls();
        if (S.OutageId is null && S.OpeningOwed is null)
        {
            // Meters that went dark again while the hand-over was owed (a recloser's second trip, a head-end's backlog
            // delivered at once) were not judged then: judge them now, or the area stays dark with no outage until its
            // next batch.
            await InferAsync(backAt: null);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == PlanStartCheck)
        {
            if (S.PlanStarting is { } plan && S.OutageId is null)
            {
                // The plan did not open: the meters' outage is an unplanned one after all.
                S.PlanDeclined = plan;
                S.PlanStarting = null;
                MarkDirty();
                await InferAsync(backAt: null);
            }
            return;
        }
        if (reminderName != NestedCheck)
        {
            return;
        }
        // One-shot: the runtime deletes it after this tick unless the tick sets it again.
        if (S.RestoredOutageId is not { } restoredOutage || S.RestoredAt is not { } restoredAt)
        {
            return;
        }
        if (S.OpeningOwed is not null)
        {
            // The restored outage's own opening is still being handed over: look again after another grace period.
            await RegisterOrUpdateReminder(NestedCheck, options.NestedOutageGrace, TimeSpan.Zero);
            return;
        }
        var (dark, _) = await StillDark(cutoff: restoredAt.ToUnixTimeMilliseconds());
        // Those of its meters left dark at the restoration that came back meanwhile are told now.
        await GrainFactory.GetGrain<IOutageGrain>(restoredOutage).NestedChecked(Id, dark);
        // Meters dark since before the outage began were not cut by it: a meter unplugged in a swap an hour before the
        // storm became a nested outage of "3 customers" with a repair order that never ended. They stay what they were
        // (dark meters; their customers' calls are judged as any), and are not told "power restored".
        var since = S.RestoredOutageSince is { } began ? began - (long)options.InferenceWindow.TotalMilliseconds : long.MinValue;
        var stillDark = OutsideNested(dark.FindAll(m => Meters.TryGet(m, out var meter) && meter.DarkSince >= since));
        if (stillDark.Count > 0)
        {
            // A meter no customer is on any more (replaced in a swap while the area was out) never reports power again:
            // it was a nested outage of "1 customers" with a repair order nothing would end.
            stillDark = [.. await GrainFactory.GetGrain<ITransformerAreaGrain>(Id).WithCustomers(stillDark)];
        }
        S.RestoredOutageId = null;
        S.RestoredAt = null;
        S.RestoredOutageSince = null;
        // Meters already in another nested or partial outage of the area are that outage's (left out above): an area
        // held one, and meters left dark beside it were told of an outage and then of nothing, with no outage at all.
        if (stillDark.Count == 0 || S.OutageId is not null)
        {
            MarkDirty();
            return;
        }
        LogNested(logger, Id, await OpenMetersOutage(stillDark, FirstDark(stillDark), restoredOutage), stillDark.Count, restoredOutage);
    }

    /// <summary><paramref name="meters"/> but those of the area's nested and partial outages (in an outage already).</summary>
    private List<string> OutsideNested(List<string> meters)
    {
        if (S.Nested.Count == 0)
        {
            return meters;
        }
        var nested = S.Nested.SelectMany(n => n.Meters).ToHashSet(StringComparer.Ordinal);
        return meters.FindAll(m => !nested.Contains(m));
    }

    /// <summary>When the first of <paramref name="meters"/> (all dark) went dark.</summary>
    private long FirstDark(List<string> meters) => meters.Min(id => Meters.TryGet(id, out var meter) ? meter.DarkSince : long.MaxValue);

    /// <summary>Opens an outage of scope Meters for <paramref name="meters"/> (dark since <paramref name="darkSince"/>):
    /// nested under <paramref name="parentOutageId"/>, or a partial outage without one. Confirmed (the meters stayed dark,
    /// or a customer called); the calls of those meters just before fold into it. Returns its id.</summary>
    private async Task<string> OpenMetersOutage(List<string> meters, long darkSince, string? parentOutageId)
    {
        var id = NextOutageId();
        S.Nested.Add(new NestedOutage(id, meters));
        S.OpeningOutageId = id;
        S.OpeningOwed = new OutageOpening(
            OutageKind.Unplanned, OutageScope.Meters, MetersActor, DateTimeOffset.FromUnixTimeMilliseconds(darkSince),
            [Id], _area?.FeederId, meters, Confirmed: true, Cause: null, ParentOutageId: parentOutageId,
            EarlierCalls: TakeEarlierCalls(darkSince, meters));
        await CommitAndSettle();
        return id;
    }

    /// <summary>The area's meters dark since <paramref name="cutoff"/> or before, by id, and when the first of them went
    /// dark. The flags know meters by hash only: the ids are the area's meters in the topology (a meter moved to another
    /// area since is not this area's to report).</summary>
    private async Task<(List<string> Meters, long DarkSince)> StillDark(long cutoff)
    {
        var dark = new List<string>();
        var first = long.MaxValue;
        foreach (var meterId in await GrainFactory.GetGrain<ITransformerAreaGrain>(Id).GetMeterIds())
        {
            // The area's supply meter measures the transformer, not a customer: it is no customer left in the dark.
            if (meterId != _area?.SupplyMeterId && Meters.TryGet(meterId, out var meter) && meter.DarkSince != 0 && meter.DarkSince <= cutoff)
            {
                dark.Add(meterId);
                first = Math.Min(first, meter.DarkSince);
            }
        }
        dark.Sort(StringComparer.Ordinal);
        return (dark, first);
    }

    private DateTimeOffset? LastHeardFrom()
    {
        long newest = 0;
        foreach (var meter in Meters)
        {
            newest = Math.Max(newest, meter.Flags.LastAt);
        }
        return Meters.Count == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(newest);
    }

    // ---- inference ----

    /// <param name="backAt">The meters' time of the latest meter of the batch that came back, if one did.</param>
    private async Task InferAsync(DateTimeOffset? backAt)
    {
        var meters = Math.Max(_area!.MeterCount, 1);
        var suspectAt = Math.Max(Math.Min(options.MinimumDarkMeters, meters), (int)Math.Ceiling(options.SuspectShare * meters));
        if (S.OutageId is null && S.OpeningOwed is null)
        {
            // Meters dark since before the last restoration are the nested check's to judge, not a new outage: after
            // a planned outage's close-out most meters are still dark until they report power.
            var restoredAt = S.RestoredAt?.ToUnixTimeMilliseconds() ?? 0;
            var (newest, inWindow, firstDark) = DarkInWindow(restoredAt, (long)options.InferenceWindow.TotalMilliseconds);
            if (newest == 0 || inWindow < suspectAt)
            {
                await RestoreNestedIfBack(backAt);
                return;
            }
            if (S.PlanStarting is not null || await StartsPlannedOutage(DateTimeOffset.FromUnixTimeMilliseconds(firstDark)))
            {
                return; // the planned outage's: absorbed while it opens
            }
            var id = NextOutageId();
            S.OutageId = id;
            S.OutageSince = firstDark;
            S.OutageConfirmed = inWindow >= Math.Ceiling(options.ConfirmShare * meters);
            S.OpeningOutageId = id;
            S.OutageFeederId = Feeder;
            S.OpeningOwed = new OutageOpening(
                OutageKind.Unplanned, OutageScope.TransformerArea, MetersActor, DateTimeOffset.FromUnixTimeMilliseconds(firstDark),
                [Id], _area.FeederId, Confirmed: S.OutageConfirmed, EarlierCalls: TakeEarlierCalls(firstDark),
                CustomersAlreadyOut: S.Nested.Sum(n => n.Meters.Count));
            LogInferred(logger, Id, id, inWindow, meters);
            await OpenOutage();
            return;
        }
        if (S.OutageId is not null && !S.OutageConfirmed && flags.State.DarkCount >= Math.Ceiling(options.ConfirmShare * meters))
        {
            S.OutageConfirmed = true;
            S.ConfirmOwed = true;
            MarkDirty(); // the confirmation is the outage's to store; the area's flag is written behind
            await SettleOwedCalls();
        }
        else if (S.OutageId is not null && backAt is { } back && flags.State.DarkCount < suspectAt && !S.OutageIsPlanned)
        {
            // Back when the meters say, not when the head-end delivered it (a late batch must not lengthen the outage).
            var now = TimeProvider.GetUtcNow();
            await EndAreaOutage(back < now ? back : now, byMeters: true);
        }
        if (S.Nested.Count > 0 && backAt is not null)
        {
            // A nested outage ends when its meters are back, whatever else the area has open meanwhile: it stayed on the
            // board, its repair order open, until some later event reached the area.
            await RestoreNestedIfBack(backAt);
        }
    }

    /// <summary>Meters going dark in the window of a planned outage scheduled on the area (from its earliest allowed start
    /// to its planned end) are the switch opening for the planned work, usually before the dispatcher records the start:
    /// they start the plan (one-way; it opens its outage and tells the area, <see cref="PlannedOutageStarted"/>). An
    /// unplanned outage opened instead: a second outage over the same customers, a repair crew sent to planned work, an
    /// "outage detected" text with a 4-hour estimate to customers told of the work a week before, and the cut counted
    /// twice in SAIFI and SAIDI. If the plan does not open within <see cref="PlanStartWait"/>, the area opens an unplanned
    /// outage after all.</summary>
    private async Task<bool> StartsPlannedOutage(DateTimeOffset darkSince)
    {
        var scheduled = await GrainFactory.GetGrain<IPlannedOutageCalendarGrain>(IPlannedOutageCalendarGrain.Key).List(
            new PlannedOutageQuery(TransformerAreaId: Id, From: darkSince, To: darkSince + plannedOptions.EarlyStart, Take: 10));
        var plan = scheduled.Items.FirstOrDefault(p => p.Status == PlannedOutageStatus.Scheduled && p.Id != S.PlanDeclined);
        if (plan is null)
        {
            return false;
        }
        S.PlanStarting = plan.Id;
        S.PlanStartingAt = darkSince;
        await CommitAndSettle(ReminderChange.Set(PlanStartCheck, TimeProvider.GetUtcNow() + PlanStartWait, TimeSpan.Zero));
        await GrainFactory.GetGrain<IPlannedOutageGrain>(plan.Id).StartedByMeters(darkSince);
        return true;
    }

    /// <summary>The newest moment a meter went dark, and how many went dark after <paramref name="restoredAt"/> inside
    /// the window before it (and the first of them). Runs on every batch of events an area gets: two passes, no copies.</summary>
    /// <remarks>Meters of the area's nested outage are in an outage already (its last gasps are absorbed): counted, they
    /// opened a second outage over the same customers at the area's next event after the grace period — a second repair
    /// order, a second "outage" text, more customers out on the console than the utility serves.</remarks>
    private (long Newest, int InWindow, long FirstDark) DarkInWindow(long restoredAt, long window)
    {
        HashSet<ulong>? nested = S.Nested.Count == 0 ? null : [.. S.Nested.SelectMany(n => n.Meters).Select(MeterFlagTable.KeyOf)];
        long newest = 0;
        foreach (var meter in Meters)
        {
            if (nested?.Contains(meter.Key) != true)
            {
                newest = Math.Max(newest, meter.Flags.DarkSince);
            }
        }
        var count = 0;
        var first = long.MaxValue;
        foreach (var meter in Meters)
        {
            var darkSince = meter.Flags.DarkSince;
            if (darkSince > restoredAt && darkSince >= newest - window && nested?.Contains(meter.Key) != true)
            {
                count++;
                first = Math.Min(first, darkSince);
            }
        }
        return (newest, count, first);
    }

    /// <summary>Ends the nested (or partial) outages whose meters are all back, one at a time: each ending is owed and
    /// told before the next is taken (one owed ending at once; one still owed waits for the next batch).</summary>
    private async Task RestoreNestedIfBack(DateTimeOffset? backAt)
    {
        while (S.EndingOwed is null && S.Nested.Find(n => n.Meters.All(m => !Meters.TryGet(m, out var meter) || meter.DarkSince == 0)) is { } nested)
        {
            S.Nested.Remove(nested);
            S.EndingOwed = nested.OutageId;
            // Back when its meters say, as the area's own outage (a late batch must not lengthen it in the indicators).
            var now = TimeProvider.GetUtcNow();
            S.EndingAt = backAt is { } back && back < now ? back : now;
            await CommitAndSettle();
        }
    }

    /// <summary>The area's outage is over: the outage and the feeder hear of it (when the meters ended it), and the
    /// meters get a grace period to report before the ones still dark become a nested outage.</summary>
    private async Task EndAreaOutage(DateTimeOffset restoredAt, bool byMeters = false)
    {
        var outage = S.OutageId!;
        S.OutageId = null;
        S.OutageConfirmed = false;
        S.OutageIsPlanned = false;
        S.RestoredOutageId = outage;
        S.RestoredAt = restoredAt;
        S.RestoredOutageSince = S.OutageSince;
        S.OutageSince = null;
        S.FeederEndOwed = outage;
        S.FeederEndOwedTo = S.OutageFeederId ?? Feeder;
        S.OutageFeederId = null;
        if (byMeters)
        {
            S.EndingOwed = outage;
            S.EndingAt = restoredAt;
        }
        else
        {
            S.DarkAnswerOwed = outage; // which meters are still dark, for the customers' "power restored"
        }
        // The nested check is stored with the restoration, in one write: never a restoration without its check.
        await CommitAndSettle(ReminderChange.Set(NestedCheck, TimeProvider.GetUtcNow() + options.NestedOutageGrace, TimeSpan.Zero));
    }

    private string NextOutageId() => $"OUT-{Id}-{++S.Outages}";

    // ---- durable hand-over to the outage and feeder grains ----

    /// <summary>Stores the area's decision and hands the outage to the feeder once it is stored, without holding up
    /// this call: in a storm thousands of areas open at once, and each batch of meter events waited for the slowest
    /// area's write. Until the feeder acknowledges, the area's other calls to the outage wait; if no acknowledgement
    /// comes (the write or the feeder failed), the retry stores the decision again and hands it over again.
    /// The decision goes through the store's background lane: nobody waits on it but the hand-over, and in a storm
    /// 20,000 decisions at once in the lane callers wait on held every dispatcher's and crew's write up behind them.
    /// An area without a feeder opens the outage itself, in this call.</summary>
    private Task OpenOutage()
    {
        if (Feeder is null)
        {
            return CommitAndSettle();
        }
        var stored = state.WriteStateInBackgroundAsync();
        _record.Written();
        AwaitAcknowledgement();
        _ = HandOverOnceStored(stored);
        return Task.CompletedTask;
    }

    private async Task HandOverOnceStored(Task stored)
    {
        try
        {
            await stored;
        }
        catch (Exception error)
        {
            LogHandOverNotStored(logger, error, Id);
            return;
        }
        if (S.OpeningOwed is { } opening && OwedOutageId() is { } outageId && OpeningFeeder is { } feeder)
        {
            await HandOver(feeder, outageId, opening);
        }
    }

    private async Task CommitAndSettle(ReminderChange? reminder = null)
    {
        await (reminder is { } change ? state.WriteStateAsync([], change) : state.WriteStateAsync());
        _record.Written();
        await SettleOwedCalls();
    }

    /// <summary>Makes the calls the stored state says are owed; each is idempotent, so repeating them after a crash
    /// (on activation) is safe. An area outage's opening goes to the feeder one-way and is cleared by its
    /// acknowledgement; the calls after it wait for that. Cleared calls are written behind.</summary>
    private async Task SettleOwedCalls()
    {
        if (S.OpeningOwed is { } opening)
        {
            if (_handOverRetry is not null)
            {
                return; // handed over, not yet acknowledged
            }
            var outageId = OwedOutageId();
            if (outageId is not null && opening.Scope == OutageScope.TransformerArea && OpeningFeeder is { } feeder)
            {
                await HandOver(feeder, outageId, opening);
                AwaitAcknowledgement();
                return;
            }
            if (outageId is not null)
            {
                await GrainFactory.GetGrain<IOutageGrain>(outageId).Open(opening);
            }
            S.OpeningOwed = null;
            S.OpeningOutageId = null;
            MarkDirty();
        }
        if (S.ConfirmOwed)
        {
            if (S.OutageId is { } outage)
            {
                await GrainFactory.GetGrain<IOutageGrain>(outage).ConfirmedByMeters();
            }
            S.ConfirmOwed = false;
            MarkDirty();
        }
        if (S.EndingOwed is { } ending)
        {
            var endedAt = S.EndingAt ?? S.RestoredAt ?? TimeProvider.GetUtcNow();
            var outage = GrainFactory.GetGrain<IOutageGrain>(ending);
            if (ending == S.RestoredOutageId)
            {
                // The area's own outage: the meters still dark are not told "power restored" with the rest.
                await outage.RestoredByMeters(Id, endedAt, (await StillDark(cutoff: long.MaxValue)).Meters);
            }
            else
            {
                await outage.RestoreAsOf(MetersActor, endedAt);
            }
            S.EndingOwed = null;
            S.EndingAt = null;
            MarkDirty();
        }
        if (S.DarkAnswerOwed is { } restored)
        {
            await GrainFactory.GetGrain<IOutageGrain>(restored).DarkAtRestoration(Id, (await StillDark(cutoff: long.MaxValue)).Meters);
            S.DarkAnswerOwed = null;
            MarkDirty();
        }
        if (S.FeederEndOwed is { } feederEnd)
        {
            // The feeder the outage was opened through, also when an import has moved the area to another feeder since:
            // told to the new one, the old one counted the area out for good and rolled it into its next feeder outage.
            if ((S.FeederEndOwedTo ?? Feeder) is { } feeder)
            {
                await GrainFactory.GetGrain<IFeederPowerGrain>(feeder).AreaOutageEnded(Id, feederEnd, S.RestoredAt ?? TimeProvider.GetUtcNow());
            }
            S.FeederEndOwed = null;
            S.FeederEndOwedTo = null;
            MarkDirty();
        }
    }

    /// <summary>The outage the owed opening is for (records stored before the id was kept name it by scope).</summary>
    private string? OwedOutageId() =>
        S.OpeningOutageId ?? (S.OpeningOwed?.Scope == OutageScope.Meters ? S.Nested.LastOrDefault()?.OutageId : S.OutageId);

    /// <summary>The area's feeder, if the topology names one.</summary>
    private string? Feeder => _area?.FeederId is { Length: > 0 } feeder ? feeder : null;

    /// <summary>The feeder the area's outage is handed to: the one it was first handed to, even if an import moved the
    /// area since.</summary>
    private string? OpeningFeeder => S.OutageFeederId ?? Feeder;

    /// <summary>The one-way hand-over of an owed opening (the feeder acknowledges with <see cref="OutageOpened"/>).</summary>
    private Task HandOver(string feeder, string outageId, OutageOpening opening) =>
        GrainFactory.GetGrain<IFeederPowerGrain>(feeder).OpenAreaOutage(Id, outageId, opening);

    /// <summary>Marks the opening handed over: the calls owed after it wait for the acknowledgement, and without one the
    /// retry stores and hands it over again.</summary>
    private void AwaitAcknowledgement() => _handOverRetry = RegisterTimer(_ => RetryHandOver(), options.HandOverRetry, TimeSpan.Zero);

    private Task RetryHandOver()
    {
        StopHandOverRetry();
        return CommitAndSettle();
    }

    private void StopHandOverRetry()
    {
        _handOverRetry?.Dispose();
        _handOverRetry = null;
    }

    /// <summary>The record changed without a decision that must be stored first: written behind.</summary>
    private void MarkDirty() => _record.Changed();

    [LoggerMessage(Level = LogLevel.Information, Message = "Transformer area {Area}: outage {Outage} inferred from {Dark} of {Meters} meters dark")]
    private static partial void LogInferred(ILogger logger, string area, string outage, int dark, int meters);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transformer area {Area}: its meter flags or record could not be written behind; they are written again later")]
    private static partial void LogFlagsNotWritten(ILogger logger, Exception error, string area);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transformer area {Area}: its outage could not be stored; it is stored and handed to the feeder again later")]
    private static partial void LogHandOverNotStored(ILogger logger, Exception error, string area);

    [LoggerMessage(Level = LogLevel.Information, Message = "Transformer area {Area}: partial outage {Outage} of {Dark} dark meters, confirmed by a customer's call")]
    private static partial void LogPartial(ILogger logger, string area, string outage, int dark);

    [LoggerMessage(Level = LogLevel.Information, Message = "Transformer area {Area}: nested outage {Outage} for {Dark} meters still dark after {Restored} was restored")]
    private static partial void LogNested(ILogger logger, string area, string outage, int dark, string restored);
}

internal sealed class AreaPowerRecord
{
    /// <summary>The meter flags of a record stored before they had a state of their own (<see cref="AreaMeterFlags"/>);
    /// moved there on activation, never written.</summary>
    [JsonPropertyName("Meters")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, MeterPower>? MetersStoredBefore { get; set; }

    /// <summary>How many outages this area has opened (outage ids are the area id and this number).</summary>
    public int Outages { get; set; }

    public string? OutageId { get; set; }
    public bool OutageConfirmed { get; set; }

    /// <summary>When the first meter of <see cref="OutageId"/> went dark (Unix milliseconds; the plan's start for a
    /// planned outage); null on records stored before it was kept.</summary>
    public long? OutageSince { get; set; }

    /// <summary>The outage is a planned outage's (opened by it, ended only by it).</summary>
    public bool OutageIsPlanned { get; set; }
    /// <summary>The area's nested outages (meters still dark after it came back) and partial outages (meters dark together,
    /// too few for an area outage, confirmed by a call), each with its meters; none on most areas.</summary>
    public List<NestedOutage> Nested { get; set; } = [];

    /// <summary>The one nested outage of a record stored before an area could hold several; moved to
    /// <see cref="Nested"/> on activation, never written.</summary>
    [JsonPropertyName("NestedOutageId")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? NestedOutageIdStoredBefore { get; set; }

    [JsonPropertyName("NestedMeters")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? NestedMetersStoredBefore { get; set; }

    /// <summary>The outage last restored and when: meters dark since before then and still dark after the grace
    /// period are nested.</summary>
    public string? RestoredOutageId { get; set; }
    public DateTimeOffset? RestoredAt { get; set; }

    /// <summary>When the restored outage's first meter went dark: meters dark since long before it are not nested in it.</summary>
    public long? RestoredOutageSince { get; set; }

    // Calls owed to other grains, written before they are made (see AreaPowerGrain.SettleOwedCalls).
    public OutageOpening? OpeningOwed { get; set; }

    /// <summary>The outage <see cref="OpeningOwed"/> opens (the area may have ended it before the feeder acknowledged).</summary>
    public string? OpeningOutageId { get; set; }
    public bool ConfirmOwed { get; set; }
    public string? EndingOwed { get; set; }

    /// <summary>When the outage <see cref="EndingOwed"/> ends: the meters' own time it came back.</summary>
    public DateTimeOffset? EndingAt { get; set; }
    public string? FeederEndOwed { get; set; }

    /// <summary>The feeder <see cref="FeederEndOwed"/> is owed to: the one the outage was opened through (null in
    /// records stored before it was kept: the area's feeder).</summary>
    public string? FeederEndOwedTo { get; set; }

    /// <summary>The feeder the area's open outage was handed to (an import may move the area meanwhile).</summary>
    public string? OutageFeederId { get; set; }

    /// <summary>An outage a crew, a dispatcher or a close-out ended, to be told which of the area's meters are still
    /// dark (its customers' "power restored" waits for it).</summary>
    public string? DarkAnswerOwed { get; set; }

    /// <summary>A planned outage the area's meters started (they went dark in its window), until it opens; last gasps
    /// meanwhile are absorbed into it.</summary>
    public string? PlanStarting { get; set; }

    /// <summary>When the meters of <see cref="PlanStarting"/> went dark: the start told to the plan.</summary>
    public DateTimeOffset? PlanStartingAt { get; set; }

    /// <summary>The last planned outage that did not open when the meters started it: not asked again.</summary>
    public string? PlanDeclined { get; set; }

    /// <summary>Fault calls classified unknown lately, for an outage inferred soon after them (see
    /// <see cref="OutageOptions.CallsBeforeOutage"/>); none on most areas.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<EarlierCall>? EarlierCalls { get; set; }
}

/// <summary>A nested or partial outage of an area and its meters.</summary>
internal sealed record NestedOutage(string OutageId, List<string> Meters);

/// <summary>A fault call an area classified unknown: the order, its customer's meter, when (Unix milliseconds).</summary>
/// <param name="MeterOn">The call was judged "meter on" (verify / customer side): it folds into an outage only if its
/// meter turns out to have been dark when the customer called.</param>
internal sealed record EarlierCall(string OrderId, string MeterId, long At, bool MeterOn = false);
