using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace PowerService.Api.Tests.Support;

/// <summary>A minimal SignalR client (JSON hub protocol over a real WebSocket), because the .NET SignalR client package
/// cannot be restored here. It connects the way the browser client does with skipNegotiation: WebSocket transport,
/// the bearer token in the query string.</summary>
public sealed class SignalRConnection : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private readonly ClientWebSocket _socket = new();
    private readonly Channel<JsonElement> _messages = Channel.CreateUnbounded<JsonElement>();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _readAgain = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _receiving;
    private int _invocationId;
    private volatile bool _reading = true;
    private HttpMessageInvoker? _invoker;

    /// <summary>Opens the hub at <paramref name="hubUrl"/> (http://…) with <paramref name="token"/>; throws a
    /// <see cref="WebSocketException"/> when the server refuses the upgrade (see <see cref="RefusedStatusAsync"/>).</summary>
    /// <param name="receiveBufferBytes">The socket's receive buffer: a small one makes a client that stops reading
    /// (<see cref="StopReading"/>) hold the server's sends soon, as a console whose laptop went to sleep does.</param>
    public static async Task<SignalRConnection> ConnectAsync(Uri hubUrl, string? token, int? receiveBufferBytes = null)
    {
        var connection = new SignalRConnection();
        if (receiveBufferBytes is { } bytes)
        {
            connection._invoker = new HttpMessageInvoker(new SocketsHttpHandler
            {
                ConnectCallback = async (context, cancellationToken) =>
                {
                    var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = bytes, NoDelay = true };
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                },
            });
            await connection._socket.ConnectAsync(WebSocketUri(hubUrl, token), connection._invoker, CancellationToken.None);
        }
        else
        {
            await connection._socket.ConnectAsync(WebSocketUri(hubUrl, token), CancellationToken.None);
        }
        await connection.SendRawAsync("""{"protocol":"json","version":1}""");
        connection._receiving = connection.ReceiveLoop();
        var handshake = await connection.NextAsync(TimeSpan.FromSeconds(5));
        if (handshake.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"Handshake refused: {error}");
        }
        return connection;
    }

    /// <summary>The HTTP status the server answers a WebSocket upgrade with (101 when it accepts).</summary>
    public static async Task<int> RefusedStatusAsync(Uri hubUrl, string? token)
    {
        using var probe = new ClientWebSocket();
        probe.Options.CollectHttpResponseDetails = true;
        try
        {
            await probe.ConnectAsync(WebSocketUri(hubUrl, token), CancellationToken.None);
            await probe.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // Refused: the status code is what the test needs.
        }
        return (int)probe.HttpStatusCode;
    }

    private static Uri WebSocketUri(Uri hubUrl, string? token) => new UriBuilder(hubUrl)
    {
        Scheme = hubUrl.Scheme == "https" ? "wss" : "ws",
        Query = token is null ? "" : $"access_token={Uri.EscapeDataString(token)}",
    }.Uri;

    /// <summary>Invokes a hub method and waits for its completion; a hub error is thrown.</summary>
    public Task InvokeAsync(string target, params object?[] arguments) => CallAsync(target, arguments);

    /// <summary>Invokes a hub method and answers its result (undefined for none); a hub error is thrown as
    /// <see cref="InvalidOperationException"/> with the hub's message.</summary>
    public async Task<JsonElement> CallAsync(string target, params object?[] arguments)
    {
        var id = Interlocked.Increment(ref _invocationId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await SendRawAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target, arguments }));
        while (true)
        {
            var message = await NextAsync(TimeSpan.FromSeconds(10));
            if (message.GetProperty("type").GetInt32() == 3 && message.GetProperty("invocationId").GetString() == id)
            {
                if (message.TryGetProperty("error", out var error))
                {
                    throw new InvalidOperationException(error.GetString());
                }
                return message.TryGetProperty("result", out var result) ? result.Clone() : default;
            }
        }
    }

    /// <summary>Waits until the server has run the hub's <c>OnConnectedAsync</c> (where a connection joins its groups):
    /// the server handles invocations only after it, so the answer to any invocation, here the error for a method no
    /// hub has, proves it ran.</summary>
    public async Task SettledAsync()
    {
        var id = Interlocked.Increment(ref _invocationId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await SendRawAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target = "Settled", arguments = Array.Empty<object>() }));
        while (true)
        {
            var message = await NextAsync(TimeSpan.FromSeconds(10));
            if (message.GetProperty("type").GetInt32() == 3 && message.GetProperty("invocationId").GetString() == id)
            {
                return;
            }
        }
    }

    /// <summary>The arguments of the next invocation of <paramref name="target"/> the server sends.</summary>
    public async Task<JsonElement> NextInvocationAsync(string target, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var message = await NextAsync(deadline - DateTime.UtcNow);
            if (message.GetProperty("type").GetInt32() == 1 && message.GetProperty("target").GetString() == target)
            {
                return message.GetProperty("arguments");
            }
        }
    }

    /// <summary>Waits until the server closes the connection (its close message, or the socket's end); false if it is
    /// still open after <paramref name="timeout"/>.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (await _messages.Reader.WaitToReadAsync(cancel.Token))
            {
                if (_messages.Reader.TryRead(out var message) && message.GetProperty("type").GetInt32() == 7)
                {
                    return true;
                }
            }
            return true; // the socket ended
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Stops reading from the socket (what the server sends piles up in the socket's buffers, then in the
    /// server's); the connection stays open.</summary>
    public void StopReading() => _reading = false;

    private async Task<JsonElement> NextAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout > TimeSpan.Zero ? timeout : TimeSpan.FromMilliseconds(1));
        try
        {
            return await _messages.Reader.ReadAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("No message from the hub in time.");
        }
    }

    private Task SendRawAsync(string json) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(json + RecordSeparator), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    private async Task ReceiveLoop()
    {
        var buffer = new byte[64 * 1024];
        var pending = new StringBuilder();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                if (!_reading)
                {
                    await _readAgain.Task.WaitAsync(_stop.Token); // until disposed
                }
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                pending.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
                var text = pending.ToString();
                var end = text.LastIndexOf(RecordSeparator);
                if (end < 0)
                {
                    continue;
                }
                foreach (var record in text[..end].Split(RecordSeparator))
                {
                    using var document = JsonDocument.Parse(record);
                    await _messages.Writer.WriteAsync(document.RootElement.Clone());
                }
                pending.Clear().Append(text[(end + 1)..]);
            }
        }
        catch (Exception error) when (error is OperationCanceledException or WebSocketException)
        {
            // Closed by the test or the server.
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Close before stopping the receive loop: cancelling its receive aborts the socket (on another thread), and a
        // close sent after the state was read as open then failed with "Aborted".
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                // The server ended the connection first.
            }
        }
        await _stop.CancelAsync();
        if (_receiving is not null)
        {
            await _receiving;
        }
        _socket.Dispose();
        _invoker?.Dispose();
        _stop.Dispose();
    }
}
