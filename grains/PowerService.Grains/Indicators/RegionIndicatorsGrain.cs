using PowerService.Grains.Energy;
using PowerService.Grains.Outages;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.Sla;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Grains.Indicators;

/// <summary>A scope's indicators, kept as sums per local month so any range of months is a few additions. A report
/// is a few increments; the state is written behind, at most once per <see cref="FlushInterval"/> while something
/// changed and on deactivation: a crash loses the reports of the last second, as the live counts do (the journal
/// holds every fact if figures ever need rebuilding). Customers served are counted from the catalog on the first
/// query of an activation; a topology import drops the activation so the next query counts again.</summary>
[GrainType(TopologyGrainTypes.RegionIndicators)]
internal sealed class RegionIndicatorsGrain(
    IPersistentState<RegionIndicatorsRecord> state,
    ICatalog catalog,
    IJournal journal,
    SlaOptions sla,
    IndicatorOptions options) : Grain, IRegionIndicatorsGrain
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly IndicatorMonths _months = new(sla.LocalUtcOffset);
    private readonly HashSet<string> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();
    private WriteBehind _figures = null!;
    private long? _customersServed;

    private string Scope => GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _figures = new WriteBehind(WriteAsync, RegisterTimer, FlushInterval);
        foreach (var key in state.State.RecentFacts)
        {
            Remember(key);
        }
        state.State.RecentFacts = [];
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _figures.FlushAsync();

    public Task OutageRestored(OutageFact outage)
    {
        var month = Month(outage.RestoredAt);
        if (!month.OutageIds.Add(outage.OutageId))
        {
            return Task.CompletedTask;
        }
        if (outage.Momentary)
        {
            // A blink: on record, not an interruption of the reliability indices (docs/indicators.md).
            month.MomentaryInterruptions += outage.Customers;
            _figures.Changed();
            return Task.CompletedTask;
        }
        var minutes = outage.Customers * Math.Max(0, (outage.RestoredAt - outage.InterruptedFrom).TotalMinutes);
        var interruptions = outage.NewInterruption ? outage.Customers : 0;
        if (outage.Kind == OutageKind.Planned)
        {
            month.PlannedMinutes += minutes;
            month.PlannedInterruptions += interruptions;
        }
        else
        {
            month.UnplannedMinutes += minutes;
            month.UnplannedInterruptions += interruptions;
        }
        if (outage.NewInterruption)
        {
            month.Outages++;
        }
        month.AreaIds.UnionWith(outage.TransformerAreaIds);
        if (minutes > 0 && (month.EarliestInterruptionAt is not { } earliest || outage.InterruptedFrom < earliest))
        {
            month.EarliestInterruptionAt = outage.InterruptedFrom;
        }
        _figures.Changed();
        return Task.CompletedTask;
    }

    public Task OrderFacts(IReadOnlyList<OrderFact> facts)
    {
        foreach (var fact in facts)
        {
            if (!Remember(fact.Key))
            {
                continue;
            }
            var month = Month(fact.At);
            switch (fact.Kind)
            {
                case OrderFactKind.ClockMet:
                    month.ClocksMet++;
                    break;
                case OrderFactKind.ClockBreached:
                    month.ClocksBreached++;
                    break;
                case OrderFactKind.ComplaintReceived:
                    month.Complaints++;
                    break;
                case OrderFactKind.NewConnectionCompleted:
                    month.NewConnections++;
                    month.NewConnectionWorkingDays += fact.WorkingDays ?? 0;
                    break;
                case OrderFactKind.CallbackSatisfied:
                    month.CallbacksSatisfied++;
                    break;
                case OrderFactKind.CallbackDissatisfied:
                    month.CallbacksDissatisfied++;
                    break;
                case OrderFactKind.CallbackUnreachable:
                    month.CallbacksUnreachable++;
                    break;
            }
        }
        _figures.Changed();
        return Task.CompletedTask;
    }

    public Task LineLossMeasured(string transformerAreaId, LineLossMeasured measured)
    {
        if (!Remember($"loss:{transformerAreaId}:{measured.PeriodStart.UtcTicks}"))
        {
            return Task.CompletedTask;
        }
        var month = Month(measured.PeriodStart);
        if (measured.LossRate is null || measured.Flags.Any(f => f is LineLossFlag.NegativeLoss or LineLossFlag.IncompleteCoverage or LineLossFlag.NoSupplyReading))
        {
            month.ExcludedLossPeriods++;
        }
        else
        {
            month.LossPeriods++;
            month.SupplyKwh += measured.SupplyKwh;
            month.DeliveredKwh += measured.DeliveredKwh;
            if (measured.Flags.Contains(LineLossFlag.HighLoss))
            {
                month.HighLossPeriods++;
            }
        }
        _figures.Changed();
        return Task.CompletedTask;
    }

    public async Task<ServiceIndicators> Get(string? from = null, string? to = null)
    {
        var now = TimeProvider.GetUtcNow();
        var last = to is null ? _months.Of(now) : IndicatorMonths.Parse(to, "to");
        var first = from is null ? last : IndicatorMonths.Parse(from, "from");
        if (string.CompareOrdinal(first, last) > 0)
        {
            throw new InvalidFieldException("from", to is null
                ? $"from ({first}) is after to, which is the current month ({last}) when not given: figures are kept for months that have begun."
                : $"from ({first}) is after to ({last}).");
        }
        if (await CustomersServedAsync() is not { } customers)
        {
            // A region no topology names: the activation goes unless another call comes first (an operator's token
            // asking for made-up regions left one activation each).
            if (state.State.Months.Count == 0)
            {
                DeactivateIfUnused();
            }
            throw new EntityNotFoundException("Region", Scope);
        }
        var months = state.State.Months.Where(m => string.CompareOrdinal(m.Key, first) >= 0 && string.CompareOrdinal(m.Key, last) <= 0)
            .Select(m => m.Value).ToList();
        var since = _months.Start(first);
        var end = _months.Start(last).AddMonths(1);
        // An outage counts in the month it ended, all its minutes: one that began last month is measured against the
        // time since it began, or availability went below zero (a 7-day outage ended on the 7th: -0.05).
        var measuredFrom = months.Select(m => m.EarliestInterruptionAt).OfType<DateTimeOffset>().Where(at => at < since).DefaultIfEmpty(since).Min();
        var periodMinutes = Math.Max(0, ((end < now ? end : now) - measuredFrom).TotalMinutes);
        var areas = months.SelectMany(m => m.AreaIds).Distinct(StringComparer.Ordinal).ToList();
        var repeated = areas.Count == 0 ? 0
            : (await new AreaOutageHistory(journal, catalog).RepeatedCustomersAsync(areas, since, end, options.RepeatedOutageCuts, countPlans: false)).Customers.Count;
        return new ServiceIndicators(
            Scope,
            first,
            last,
            customers,
            Reliability(months, customers, periodMinutes),
            OnTime(months),
            new ComplaintIndicators(months.Sum(m => m.Complaints), Share(months.Sum(m => m.Complaints) * 1_000_000.0, customers, 2)),
            new NewConnectionIndicators(months.Sum(m => m.NewConnections), Share(months.Sum(m => m.NewConnectionWorkingDays), months.Sum(m => m.NewConnections), 2)),
            new RepeatedOutageIndicators(options.RepeatedOutageCuts, repeated),
            Callbacks(months),
            LineLoss(months),
            now);
    }

    private static ReliabilityIndicators Reliability(List<MonthFigures> months, long customers, double periodMinutes)
    {
        var interruptions = months.Sum(m => m.UnplannedInterruptions + m.PlannedInterruptions);
        var unplannedMinutes = months.Sum(m => m.UnplannedMinutes);
        var plannedMinutes = months.Sum(m => m.PlannedMinutes);
        var minutes = unplannedMinutes + plannedMinutes;
        var asai = customers == 0 || periodMinutes == 0 ? (double?)null : Math.Round(1 - (minutes / (customers * periodMinutes)), 6);
        return new ReliabilityIndicators(
            months.Sum(m => m.Outages),
            interruptions,
            Math.Round(minutes, 2),
            Share(interruptions, customers, 4),
            Share(minutes, customers, 2),
            Share(minutes, interruptions, 2),
            asai,
            Share(unplannedMinutes, customers, 2),
            Share(plannedMinutes, customers, 2),
            months.Sum(m => m.MomentaryInterruptions));
    }

    private static OnTimeIndicators OnTime(List<MonthFigures> months)
    {
        var met = months.Sum(m => m.ClocksMet);
        var breached = months.Sum(m => m.ClocksBreached);
        return new OnTimeIndicators(met, breached, Share(met, met + breached, 4));
    }

    private static CallbackIndicators Callbacks(List<MonthFigures> months)
    {
        var satisfied = months.Sum(m => m.CallbacksSatisfied);
        var dissatisfied = months.Sum(m => m.CallbacksDissatisfied);
        return new CallbackIndicators(satisfied, dissatisfied, months.Sum(m => m.CallbacksUnreachable), Share(satisfied, satisfied + dissatisfied, 4));
    }

    private static LineLossIndicators LineLoss(List<MonthFigures> months)
    {
        var supply = months.Sum(m => m.SupplyKwh);
        var delivered = months.Sum(m => m.DeliveredKwh);
        return new LineLossIndicators(
            months.Sum(m => m.LossPeriods), months.Sum(m => m.HighLossPeriods), months.Sum(m => m.ExcludedLossPeriods),
            Math.Round(supply, 3), Math.Round(delivered, 3), supply > 0 ? Math.Round((supply - delivered) / supply, 5) : null);
    }

    private static double? Share(double part, double whole, int digits) => whole == 0 ? null : Math.Round(part / whole, digits);

    /// <summary>The region's customers: its feeders (the feeder's parent key is its region), their areas, their
    /// meters, their customers. The system's: every customer in the catalog. Null for a region no feeder names.</summary>
    private async Task<long?> CustomersServedAsync()
    {
        if (_customersServed is { } known)
        {
            return known;
        }
        if (Scope == IndicatorScopes.System)
        {
            return _customersServed = await catalog.CountAsync(TopologyKinds.Customer);
        }
        var feeders = await catalog.ReadChildrenAsync(TopologyKinds.Feeder, [Scope]);
        if (feeders.Count == 0)
        {
            return null;
        }
        var areas = await catalog.ReadChildrenAsync(TopologyKinds.TransformerArea, [.. feeders.Select(f => f.Key)]);
        var meters = await catalog.ReadChildrenAsync(TopologyKinds.Meter, [.. areas.Select(a => a.Key)]);
        var customers = await catalog.ReadChildrenAsync(TopologyKinds.Customer, [.. meters.Select(m => m.Key)]);
        return _customersServed = customers.Count;
    }

    private MonthFigures Month(DateTimeOffset at)
    {
        var key = _months.Of(at);
        if (!state.State.Months.TryGetValue(key, out var month))
        {
            state.State.Months[key] = month = new MonthFigures();
        }
        return month;
    }

    /// <summary>False when the key was seen recently (a repeated report); the oldest key is forgotten first.</summary>
    private bool Remember(string key)
    {
        if (!_recent.Add(key))
        {
            return false;
        }
        _recentOrder.Enqueue(key);
        while (_recentOrder.Count > options.RecentFactsKept && _recentOrder.TryDequeue(out var oldest))
        {
            _recent.Remove(oldest);
        }
        return true;
    }

    private async Task WriteAsync()
    {
        state.State.RecentFacts = [.. _recentOrder];
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            state.State.RecentFacts = [];
        }
    }
}

/// <summary>The stored figures: sums per local month (<c>yyyy-MM</c>), and the recent fact keys oldest first.</summary>
internal sealed class RegionIndicatorsRecord
{
    public SortedDictionary<string, MonthFigures> Months { get; set; } = new(StringComparer.Ordinal);
    public List<string> RecentFacts { get; set; } = [];
}

/// <summary>One month's sums. Outages are counted in the month they ended; each outage id once.</summary>
internal sealed class MonthFigures
{
    public HashSet<string> OutageIds { get; set; } = new(StringComparer.Ordinal);
    public HashSet<string> AreaIds { get; set; } = new(StringComparer.Ordinal);
    public int Outages { get; set; }
    public long UnplannedInterruptions { get; set; }
    public long PlannedInterruptions { get; set; }

    /// <summary>Customers cut by momentary outages (restored within <c>Workflow:Outages:MomentaryAtMost</c>).</summary>
    public long MomentaryInterruptions { get; set; }
    public double UnplannedMinutes { get; set; }
    public double PlannedMinutes { get; set; }

    /// <summary>When the earliest interruption counted in the month began (it may be in an earlier month).</summary>
    public DateTimeOffset? EarliestInterruptionAt { get; set; }
    public long ClocksMet { get; set; }
    public long ClocksBreached { get; set; }
    public long Complaints { get; set; }
    public long NewConnections { get; set; }
    public double NewConnectionWorkingDays { get; set; }
    public long CallbacksSatisfied { get; set; }
    public long CallbacksDissatisfied { get; set; }
    public long CallbacksUnreachable { get; set; }
    public long LossPeriods { get; set; }
    public long HighLossPeriods { get; set; }
    public long ExcludedLossPeriods { get; set; }
    public double SupplyKwh { get; set; }
    public double DeliveredKwh { get; set; }
}
