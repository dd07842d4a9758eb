using Microsoft.Extensions.Logging;
using PowerService.Grains.Crews;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Dispatch;

/// <summary>Dispatch for one region. Decisions are made from the roster in memory without awaiting, so they interleave
/// with the timer turn that assigns the backlog (the only place this grain calls work orders: a decision or a crew's
/// report never calls anyone back, so no call cycle can form). There is one per region and it drains its backlog on a
/// timer, so it stays active through a day of quiet rather than the default 15 minutes: a backlog is not left waiting
/// for the next crew report to wake it.</summary>
[IdleTimeout(24 * 60 * 60)]
internal sealed partial class DispatchGrain(
    IPersistentState<DispatchState> state, DispatchOptions options, ICatalog catalog, ILogger<DispatchGrain> logger) : Grain, IDispatchGrain
{
    private const string Actor = "dispatch";

    private const int AnySkill = ~0;

    // Assign calls in flight at once while draining the backlog.
    private const int AssignConcurrency = 32;

    private static readonly TimeSpan FullRetryInterval = TimeSpan.FromMinutes(1);

    // The roster is saved at most this often: serialising 2,000 snapshots takes milliseconds of the grain's time, and a
    // crew that changed since reports again anyway. Backlog changes are saved at the next tick.
    internal static readonly TimeSpan RosterSaveInterval = TimeSpan.FromSeconds(30);

    private readonly DispatchScoring _scoring = new(options);
    private readonly StormPlanner _planner = new(new DispatchScoring(options));
    private readonly Dictionary<string, RosterEntry> _roster = new(StringComparer.Ordinal);
    private readonly List<RosterEntry> _rosterList = [];

    // Decisions made here that the chosen crew has not yet reported: order id -> crew and when. They count on the
    // crew's load so concurrent requests spread across crews.
    private readonly Dictionary<string, (RosterEntry Crew, DateTimeOffset At)> _pending = new(StringComparer.Ordinal);

    // Backlog orders taken out for assignment and not yet answered; a Withdraw meanwhile keeps them out.
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);

    // A feeder of the region was found in the catalog (a region keeps its feeders; one not found is read again, as an
    // import may bring it any time).
    private bool _hasFeeders;

    private bool _backlogChanged;
    private bool _rosterChanged;
    private DateTimeOffset _nextRosterSaveAt;
    private bool _drainDue;
    private DateTimeOffset _nextFullRetryAt;
    private DateTimeOffset _nextBatchAt;

    private DispatchState S => state.State;

    private DateTimeOffset Now => TimeProvider.GetUtcNow();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var crew in S.Crews.Values)
        {
            Upsert(crew);
        }
        _drainDue = S.Backlog.Count > 0;
        _nextBatchAt = Now + options.StormBatchInterval;
        RegisterTimer(_ => TickAsync(), options.BacklogInterval, options.BacklogInterval);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_backlogChanged || _rosterChanged)
        {
            await SaveAsync();
        }
    }

    public Task UpdateCrew(CrewSnapshot crew)
    {
        ArgumentNullException.ThrowIfNull(crew);
        var entry = Upsert(crew);
        S.Crews[crew.CrewId] = crew;
        _rosterChanged = true;
        if (crew.Status != CrewStatus.OffShift && entry.Load < crew.Capacity)
        {
            _drainDue = true;
        }
        return Task.CompletedTask;
    }

    public Task RemoveCrew(string crewId)
    {
        if (_roster.Remove(crewId, out var entry))
        {
            _rosterList.Remove(entry);
            foreach (var orderId in entry.Pending.ToList())
            {
                ForgetPending(orderId);
            }
            S.Crews.Remove(crewId);
            _rosterChanged = true;
        }
        return Task.CompletedTask;
    }

    public Task<DispatchDecision?> RequestCrew(DispatchRequest request)
    {
        Validate(request);
        Withdraw(request.OrderId);
        if (S.StormMode)
        {
            Enqueue(request);
            return Task.FromResult<DispatchDecision?>(null);
        }
        var now = Now;
        var best = ChooseCrew(request, now);
        if (best is null)
        {
            Enqueue(request);
            return Task.FromResult<DispatchDecision?>(null);
        }
        Count(request.OrderId, best.Value.Crew, now);
        return Task.FromResult<DispatchDecision?>(
            new DispatchDecision(request.OrderId, best.Value.Crew.Snapshot.CrewId, best.Value.Travel, best.Value.Score));
    }

    public Task Withdraw(string orderId)
    {
        if (string.IsNullOrWhiteSpace(orderId))
        {
            throw new InvalidFieldException("orderId", "The order id is required.");
        }
        ForgetPending(orderId);
        RemoveFromBacklog(orderId);
        _inFlight.Remove(orderId);
        return Task.CompletedTask;
    }

    public Task<DispatchStatus> GetStatus() =>
        Task.FromResult(new DispatchStatus(GetPrimaryKeyString(), _roster.Count, S.Backlog.Count + _inFlight.Count, S.StormMode, S.Decisions));

    public Task<IReadOnlyList<string>> GetCrewIds() =>
        Task.FromResult<IReadOnlyList<string>>([.. _roster.Keys.Order(StringComparer.Ordinal)]);

    public async Task<bool> Serves()
    {
        if (_roster.Count > 0 || _hasFeeders)
        {
            return true;
        }
        var feeders = await catalog.GroupChildrenAsync(TopologyKinds.Feeder, GetPrimaryKeyString(), "region");
        return _hasFeeders = feeders.Count > 0;
    }

    // ---- deciding ----

    /// <summary>The eligible crew with the lowest score: on shift now, not off shift, with the skill, below capacity,
    /// not excluded; a crew whose offer of the order lapsed only when no other can take it. A linear scan (2,000 crews
    /// in 0.01–0.02 ms); a crew whose cheap lower bound cannot beat the best so far is skipped before the great-circle
    /// distance is computed.</summary>
    private (RosterEntry Crew, double Travel, double Score)? ChooseCrew(DispatchRequest request, DateTimeOffset now)
    {
        var excluded = request.ExcludedCrews.Count == 0 ? null : request.ExcludedCrews.ToHashSet(StringComparer.Ordinal);
        if (request.LapsedCrews is not { Count: > 0 } lapsed)
        {
            return ChooseCrew(request, now, excluded);
        }
        var others = ChooseCrew(request, now, [.. excluded ?? [], .. lapsed]);
        return others ?? ChooseCrew(request, now, excluded);
    }

    private (RosterEntry Crew, double Travel, double Score)? ChooseCrew(DispatchRequest request, DateTimeOffset now, HashSet<string>? excluded)
    {
        var skill = 1 << (int)DispatchScoring.SkillForKind(request.Kind);
        var urgency = DispatchScoring.UrgencyOf(request, now);
        RosterEntry? best = null;
        double bestScore = double.PositiveInfinity, bestTravel = 0;
        foreach (var crew in _rosterList)
        {
            if (!crew.CanTake(skill, now)
                || _scoring.Cost(_scoring.TravelMinutesAtLeast(crew.Snapshot.Location, request.Location), crew.Load, urgency) >= bestScore
                || (excluded?.Contains(crew.Snapshot.CrewId) ?? false))
            {
                continue;
            }
            var travel = _scoring.TravelMinutes(crew.Snapshot.Location, request.Location);
            var score = _scoring.Cost(travel, crew.Load, urgency);
            if (score < bestScore)
            {
                (best, bestScore, bestTravel) = (crew, score, travel);
            }
        }
        return best is null ? null : (best, bestTravel, bestScore);
    }

    private void Count(string orderId, RosterEntry crew, DateTimeOffset now)
    {
        _pending[orderId] = (crew, now);
        crew.Pending.Add(orderId);
        S.Decisions++;
    }

    // ---- the backlog ----

    private async Task TickAsync()
    {
        var now = Now;
        ForgetStalePending(now);
        if (S.StormMode)
        {
            if (now >= _nextBatchAt)
            {
                _nextBatchAt = now + options.StormBatchInterval;
                await AssignAsync(await PlanBatchAsync(now));
                if (S.Backlog.Count < options.StormBacklogThreshold / 2)
                {
                    S.StormMode = false;
                    _backlogChanged = true;
                }
            }
        }
        else if (S.Backlog.Count > 0 && (_drainDue || now >= _nextFullRetryAt))
        {
            _drainDue = false;
            _nextFullRetryAt = now + FullRetryInterval;
            await AssignAsync(PlanInTurn(now));
        }
        if (_backlogChanged || (_rosterChanged && now >= _nextRosterSaveAt))
        {
            await SaveAsync();
        }
    }

    /// <summary>Outside storm mode: the most urgent backlog orders first, each to its best crew now.</summary>
    private List<(BacklogEntry Order, RosterEntry Crew)> PlanInTurn(DateTimeOffset now)
    {
        var plan = new List<(BacklogEntry, RosterEntry)>();
        foreach (var entry in S.Backlog.OrderBy(e => e.Request.ArrivalDueAt).ToList())
        {
            if (ChooseCrew(entry.Request, now) is { } best)
            {
                Count(entry.Request.OrderId, best.Crew, now);
                plan.Add((entry, best.Crew));
            }
        }
        return plan;
    }

    /// <summary>Storm mode: the whole batch at once (<see cref="StormPlanner"/>). The solve runs off the activation
    /// on copies, so decisions and crew reports are not held up by it.</summary>
    private async Task<List<(BacklogEntry Order, RosterEntry Crew)>> PlanBatchAsync(DateTimeOffset now)
    {
        var orders = S.Backlog.OrderBy(e => e.Request.ArrivalDueAt).Take(options.StormBatchSize).ToList();
        var crews = _rosterList.Where(c => c.CanTake(AnySkill, now)).ToList();
        var requests = orders.Select(o => o.Request).ToList();
        var batchCrews = crews.Select(c => new BatchCrew(c.Snapshot.CrewId, c.Snapshot.Location, c.SkillMask, c.Load, c.Snapshot.Capacity)).ToList();
        var chosen = await Task.Run(() => _planner.Plan(requests, batchCrews, now));

        // Orders withdrawn or re-requested while the solver ran are no longer the same backlog entries.
        var waiting = new HashSet<BacklogEntry>(S.Backlog, ReferenceEqualityComparer.Instance);
        var plan = new List<(BacklogEntry, RosterEntry)>();
        for (var i = 0; i < orders.Count; i++)
        {
            if (chosen[i] >= 0 && waiting.Contains(orders[i]))
            {
                Count(orders[i].Request.OrderId, crews[chosen[i]], now);
                plan.Add((orders[i], crews[chosen[i]]));
            }
        }
        return plan;
    }

    /// <summary>Assigns planned orders through the work orders. An order that refuses (not found, or no longer waiting
    /// for a crew) leaves the backlog; one that could not be reached goes back to it.</summary>
    private async Task AssignAsync(List<(BacklogEntry Order, RosterEntry Crew)> plan)
    {
        foreach (var (order, _) in plan)
        {
            S.Backlog.Remove(order);
            _inFlight.Add(order.Request.OrderId);
        }
        _backlogChanged |= plan.Count > 0;
        foreach (var chunk in plan.Chunk(AssignConcurrency))
        {
            await Task.WhenAll(chunk.Select(p => AssignOneAsync(p.Order, p.Crew.Snapshot.CrewId)));
        }
    }

    private async Task AssignOneAsync(BacklogEntry order, string crewId)
    {
        var orderId = order.Request.OrderId;
        try
        {
            await GrainFactory.GetGrain<IWorkOrderGrain>(orderId).Assign(crewId, Actor);
        }
        catch (Exception error) when (error is DomainConflictException or EntityNotFoundException)
        {
            LogOrderDropped(logger, orderId, error.Message);
            ForgetPending(orderId);
        }
        catch (Exception error)
        {
            LogAssignFailed(logger, error, orderId, crewId);
            ForgetPending(orderId);
            if (_inFlight.Contains(orderId))
            {
                S.Backlog.Insert(0, order);
            }
        }
        finally
        {
            _inFlight.Remove(orderId);
        }
    }

    private void Enqueue(DispatchRequest request)
    {
        S.Backlog.Add(new BacklogEntry(request, Now));
        _backlogChanged = true;
        if (!S.StormMode && S.Backlog.Count >= options.StormBacklogThreshold)
        {
            S.StormMode = true;
            _nextBatchAt = Now + options.StormBatchInterval;
            LogStormMode(logger, GetPrimaryKeyString(), S.Backlog.Count);
        }
    }

    private void RemoveFromBacklog(string orderId) => _backlogChanged |= S.Backlog.RemoveAll(e => e.Request.OrderId == orderId) > 0;

    // ---- roster ----

    private RosterEntry Upsert(CrewSnapshot crew)
    {
        if (!_roster.TryGetValue(crew.CrewId, out var entry))
        {
            entry = new RosterEntry(crew);
            _roster.Add(crew.CrewId, entry);
            _rosterList.Add(entry);
        }
        entry.Update(crew);
        // Orders the crew now reports itself are counted in its load; stop counting them here.
        if (crew.Orders is null)
        {
            entry.Pending.ToList().ForEach(ForgetPending);
        }
        else
        {
            foreach (var orderId in crew.Orders)
            {
                if (entry.Pending.Contains(orderId))
                {
                    ForgetPending(orderId);
                }
            }
        }
        return entry;
    }

    private void ForgetPending(string orderId)
    {
        if (_pending.Remove(orderId, out var pending))
        {
            pending.Crew.Pending.Remove(orderId);
        }
    }

    /// <summary>A decision the crew never reported within the accept timeout was not carried out (the order gets
    /// re-dispatched anyway); it stops counting on the crew's load.</summary>
    private void ForgetStalePending(DateTimeOffset now)
    {
        foreach (var (orderId, _) in _pending.Where(p => now - p.Value.At > options.AcceptTimeout).ToList())
        {
            ForgetPending(orderId);
        }
    }

    private async Task SaveAsync()
    {
        var (backlog, roster) = (_backlogChanged, _rosterChanged);
        _backlogChanged = _rosterChanged = false;
        _nextRosterSaveAt = Now + RosterSaveInterval;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not stored: the next change or roster save writes it again.
            _backlogChanged |= backlog;
            _rosterChanged |= roster;
            throw;
        }
    }

    private static void Validate(DispatchRequest request)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.OrderId))
        {
            throw new InvalidFieldException("orderId", "The order id is required.");
        }
        if (!Enum.IsDefined(request.Kind))
        {
            throw new InvalidFieldException("kind", "Unknown work order kind.");
        }
        if (!Enum.IsDefined(request.Priority))
        {
            throw new InvalidFieldException("priority", "Unknown priority.");
        }
        if (!request.Location.IsValid)
        {
            throw new InvalidFieldException("location", "The order's location must be a valid latitude and longitude.");
        }
        if (request.ExcludedCrews is null)
        {
            throw new InvalidFieldException("excludedCrews", "The excluded crews list is required (it may be empty).");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} left the dispatch backlog: {Reason}")]
    private static partial void LogOrderDropped(ILogger logger, string orderId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Assigning order {OrderId} to crew {CrewId} failed; it stays in the backlog")]
    private static partial void LogAssignFailed(ILogger logger, Exception error, string orderId, string crewId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Region {Region} enters storm mode with {Backlog} orders waiting")]
    private static partial void LogStormMode(ILogger logger, string region, int backlog);

    /// <summary>A crew as dispatch holds it: its latest snapshot plus the decisions not yet reported back.</summary>
    private sealed class RosterEntry(CrewSnapshot snapshot)
    {
        public CrewSnapshot Snapshot { get; private set; } = snapshot;

        public int SkillMask { get; private set; }

        public HashSet<string> Pending { get; } = new(StringComparer.Ordinal);

        public int Load => Snapshot.Load + Pending.Count;

        public void Update(CrewSnapshot crew)
        {
            Snapshot = crew;
            SkillMask = DispatchScoring.SkillMask(crew.Skills);
        }

        public bool CanTake(int skill, DateTimeOffset now) =>
            (SkillMask & skill) != 0
            && Snapshot.Status != CrewStatus.OffShift
            && Load < Snapshot.Capacity
            && DispatchScoring.OnShift(Snapshot.Shifts, now);
    }
}
