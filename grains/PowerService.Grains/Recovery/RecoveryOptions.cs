namespace PowerService.Grains.Recovery;

/// <summary>Settings of the silo's view recovery after a crash (<see cref="ViewRecovery"/>; section
/// <c>Workflow:Recovery</c>).</summary>
public sealed class RecoveryOptions
{
    /// <summary>How often the checkpoint moves, and how far it trails the journal. The views it covers flush within 2 s,
    /// so it must be well above that; a longer interval replays more after a crash.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Orders, outages and plans asked at once to tell their views again while the silo starts.</summary>
    public int OrdersInFlight { get; set; } = 32;

    internal void Validate()
    {
        if (CheckpointInterval < TimeSpan.FromSeconds(5) || OrdersInFlight < 1)
        {
            throw new ArgumentException("Recovery: CheckpointInterval is at least 5 s (the views flush within 2 s) and OrdersInFlight is positive.");
        }
    }
}

/// <summary>What the recovery at the silo's start did: the work orders, outages and planned outages journaled after
/// checkpoint <paramref name="From"/> up to <paramref name="End"/> that told their views again, how many of those
/// failed, and how long it took.</summary>
public sealed record ViewReplay(int Orders, int Outages, int PlannedOutages, long From, long End, int Failed, TimeSpan Elapsed);
