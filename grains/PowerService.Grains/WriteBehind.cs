namespace PowerService.Grains;

/// <summary>State a grain writes behind: a change arms one flush <c>delay</c> later (a one-shot grain timer), and
/// deactivation flushes too. A failed flush leaves it marked and arms the next; a write the grain made on its own
/// clears it. A clean grain has no timer at all, which matters for grains with many activations (an area, an outage):
/// a periodic tick would cost each a turn every interval, changed or not.</summary>
internal sealed class WriteBehind(Func<Task> write, Func<Func<CancellationToken, Task>, TimeSpan, TimeSpan, IDisposable> registerTimer, TimeSpan delay)
{
    private bool _changed;
    private IDisposable? _armed;

    public void Changed()
    {
        _changed = true;
        _armed ??= registerTimer(_ => OnTimerAsync(), delay, TimeSpan.Zero);
    }

    /// <summary>The state was just written by the grain itself: nothing is owed.</summary>
    public void Written() => _changed = false;

    public async Task FlushAsync()
    {
        if (!_changed)
        {
            return;
        }
        _changed = false;
        try
        {
            await write();
        }
        catch
        {
            Changed();
            throw;
        }
    }

    private Task OnTimerAsync()
    {
        _armed?.Dispose();
        _armed = null;
        return FlushAsync();
    }
}
