using PowerService.Grains.Crews;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Regions;

/// <summary>Live counts of one scope, kept by applying each reported change as a delta (never by scanning orders).
/// A call is a few array increments; the state is written behind, at most once per <see cref="FlushInterval"/>
/// while something changed and on deactivation. A crash loses the deltas of the last interval (about a second),
/// so counts can drift after one; the journal holds every change if they ever need rebuilding.</summary>
internal sealed class ServiceCountsGrain(IPersistentState<ServiceCountsRecord> state) : Grain, IServiceCountsGrain
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);
    private static readonly WorkOrderState[] States = Enum.GetValues<WorkOrderState>();
    private static readonly WorkOrderKind[] Kinds = Enum.GetValues<WorkOrderKind>();
    private static readonly CrewStatus[] Statuses = Enum.GetValues<CrewStatus>();

    private WriteBehind _counts = null!;

    private ServiceCountsRecord Counts => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Counts.FitTo(States.Length, Kinds.Length, Statuses.Length);
        _counts = new WriteBehind(() => state.WriteStateAsync(), RegisterTimer, FlushInterval);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Flush();

    public Task OrderChanged(OrderCountChange change)
    {
        if (change.Previous is { } previous)
        {
            Count(previous, -1);
        }
        Count(change.Current, +1);
        if (change.Current.Breached && change.Previous is not { Breached: true })
        {
            Counts.BreachesTotal++;
        }
        _counts.Changed();
        return Task.CompletedTask;
    }

    public Task CrewChanged(CrewCountChange change)
    {
        if (change.Previous is { } previous)
        {
            Counts.CrewsByStatus[(int)previous]--;
        }
        if (change.Current is { } current)
        {
            Counts.CrewsByStatus[(int)current]++;
        }
        _counts.Changed();
        return Task.CompletedTask;
    }

    public Task<ServiceCounts> GetCounts() => Task.FromResult(new ServiceCounts(
        GetPrimaryKeyString(),
        States.ToDictionary(s => s, s => Counts.OrdersByState[(int)s]),
        Kinds.ToDictionary(k => k, k => Counts.OpenByKind[(int)k]),
        Statuses.ToDictionary(s => s, s => Counts.CrewsByStatus[(int)s]),
        Counts.OpenOrders,
        Counts.OpenBreached,
        Counts.BreachesTotal,
        Counts.OpenEscalated,
        TimeProvider.GetUtcNow()));

    private void Count(OrderCountKey key, int delta)
    {
        Counts.OrdersByState[(int)key.State] += delta;
        if (WorkOrderTransitions.IsTerminal(key.State))
        {
            return;
        }
        Counts.OpenByKind[(int)key.Kind] += delta;
        Counts.OpenOrders += delta;
        if (key.Breached)
        {
            Counts.OpenBreached += delta;
        }
        if (key.Escalated)
        {
            Counts.OpenEscalated += delta;
        }
    }

    private Task Flush() => _counts.FlushAsync();
}

/// <summary>Counters indexed by enum value (arrays: a delta is one increment, no dictionary lookup).</summary>
internal sealed class ServiceCountsRecord
{
    public int[] OrdersByState { get; set; } = [];
    public int[] OpenByKind { get; set; } = [];
    public int[] CrewsByStatus { get; set; } = [];
    public int OpenOrders { get; set; }
    public int OpenBreached { get; set; }
    public int BreachesTotal { get; set; }
    public int OpenEscalated { get; set; }

    /// <summary>Grows the arrays when an enum gained members since the state was stored.</summary>
    public void FitTo(int states, int kinds, int statuses)
    {
        OrdersByState = Fit(OrdersByState, states);
        OpenByKind = Fit(OpenByKind, kinds);
        CrewsByStatus = Fit(CrewsByStatus, statuses);
    }

    private static int[] Fit(int[] counts, int length)
    {
        if (counts.Length >= length)
        {
            return counts;
        }
        var fitted = new int[length];
        counts.CopyTo(fitted, 0);
        return fitted;
    }
}
