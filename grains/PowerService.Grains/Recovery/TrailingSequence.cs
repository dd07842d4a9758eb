namespace PowerService.Grains.Recovery;

/// <summary>A sequence (the journal's or a log's end) sampled at each tick, and the newest sample at least
/// <paramref name="lag"/> old: everything up to it was heard long enough ago for what is written behind to be stored.</summary>
internal sealed class TrailingSequence(TimeSpan lag)
{
    private readonly Queue<(DateTimeOffset At, long Sequence)> _samples = new();

    public void Sample(DateTimeOffset at, long sequence) => _samples.Enqueue((at, sequence));

    /// <summary>The newest sample taken at or before <paramref name="now"/> minus the lag (older ones are dropped), or
    /// null when none is that old yet.</summary>
    public long? Settled(DateTimeOffset now)
    {
        long? settled = null;
        while (_samples.Count > 0 && _samples.Peek().At <= now - lag)
        {
            settled = _samples.Dequeue().Sequence;
        }
        return settled;
    }
}
