using Microsoft.Extensions.Logging;

namespace PowerService.Runtime;

/// <summary>An in-memory grain timer. Each tick is queued as a turn of the grain, so it never runs beside a call;
/// a tick that finds the previous one still queued or running is skipped rather than piling up.</summary>
internal sealed partial class GrainTimer : IDisposable
{
    private readonly Activation _activation;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly ITimer _timer;
    private int _tickPending;
    private volatile bool _disposed;

    public GrainTimer(Activation activation, Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        _activation = activation;
        _callback = callback;
        _timer = activation.Silo.TimeProvider.CreateTimer(
            static state => ((GrainTimer)state!).Tick(),
            this,
            dueTime,
            period <= TimeSpan.Zero ? Timeout.InfiniteTimeSpan : period);
    }

    private void Tick()
    {
        if (_disposed || Interlocked.CompareExchange(ref _tickPending, 1, 0) != 0)
        {
            return;
        }
        if (!_activation.Enqueue(new TimerTick(this)))
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _timer.Dispose();
        _activation.TimerDisposed(this);
    }

    private sealed partial class TimerTick : VoidInvocation
    {
        private readonly GrainTimer _timer;

        public TimerTick(GrainTimer timer)
        {
            _timer = timer;
            DeadlineTicks = long.MaxValue;
        }

        public override string InterfaceName => "timer";
        public override string MethodName => "Tick";
        public override int ArgumentCount => 0;
        public override object? GetArgument(int index) => throw new ArgumentOutOfRangeException(nameof(index));

        protected override async Task InvokeCore(object grain)
        {
            try
            {
                if (!_timer._disposed)
                {
                    await _timer._callback(_timer._activation.Silo.ShutdownToken);
                }
            }
            catch (Exception error)
            {
                // Nobody awaits a tick: log it, count it (the tick's result still faults for the error metric), keep ticking.
                LogTickFailed(_timer._activation.Silo.Logger, _timer._activation.Id, error);
                throw;
            }
            finally
            {
                Volatile.Write(ref _timer._tickPending, 0);
            }
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "A timer tick of {Grain} threw; the timer keeps running")]
        private static partial void LogTickFailed(ILogger logger, GrainId grain, Exception error);
    }
}
