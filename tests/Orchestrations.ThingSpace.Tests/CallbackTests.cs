using Orchestrations.ThingSpace.Callbacks;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>The REST callback envelope (contract §4.4 examples) and the SOAP suspension-status seed.</summary>
public sealed class CallbackTests
{
    private const string FailureExample = """
        {
          "username": "", "password": "",
          "requestId": "076f7ea9-8230-49b1-9386-8dafaddc7d9e",
          "deviceIds": [ {"id": "20180903000000000009", "kind": "Iccid"}, {"id": "201809030000009", "kind": "Imei"} ],
          "faultResponse": {
            "faultcode": "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive",
            "faultstring": "REQUEST_FAILED. Device is already active"
          },
          "status": "Failed",
          "callbackCount": 1,
          "maxCallbackThreshold": 4
        }
        """;

    private const string ChangeIdentifierExample = """
        {
          "username": "", "password": "",
          "requestId": "a28892ea-6503-4aa7-bfa2-4cd45d42f61b",
          "deviceIds": [ {"id": "22211315718", "kind": "ESN"} ],
          "deviceResponse": {
            "changeIdentifierResponse": {
              "deviceIds": [ {"id": "A1000001999990", "kind": "iccid"} ],
              "servicePlan": "M2M_4G"
            }
          },
          "status": "Success",
          "callbackCount": 1,
          "maxCallbackThreshold": 4
        }
        """;

    private const string SoapDeviceMessage = """
        <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
          <s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
            <CallbackRequest xmlns="http://nphase.com/unifiedwebservice/v2">
              <Username/>
              <Password/>
              <RequestId>5ddb1e8a-8539-40fa-b3c5-b2c63281fbe2</RequestId>
              <Data>
                <Data>
                  <CarrierService xsi:nil="true"/>
                  <ExternalProvisioningChange xsi:nil="true"/>
                  <PromoChange xsi:nil="true"/>
                  <SMSDelivery xsi:nil="true"/>
                  <PRLInformation xsi:nil="true"/>
                  <DeviceSuspendStatus>
                    <Device>
                      <Kind>Mdn</Kind>
                      <Identifier>9083074681</Identifier>
                    </Device>
                    <Device>
                      <Kind>Meid</Kind>
                      <Identifier>A100001F702731</Identifier>
                    </Device>
                    <State>suspend</State>
                    <SuspendDate>02/29/2017</SuspendDate>
                    <ExpectedResumeDate>04/01/2017</ExpectedResumeDate>
                    <MaxSuspendDaysAllowed>180</MaxSuspendDaysAllowed>
                    <NumDaysSuspendedLast12Months>93</NumDaysSuspendedLast12Months>
                    <NumdaysSuspendAllowedCurrent12Months>87</NumdaysSuspendAllowedCurrent12Months>
                    <Fault xsi:nil="true"/>
                  </DeviceSuspendStatus>
                  <GoToState xsi:nil="true"/>
                  <Fault xsi:nil="true"/>
                  <Comment xsi:nil="true"/>
                  <Summary xsi:nil="true"/>
                  <Status xsi:nil="true" />
                  <CallbackCount>1</CallbackCount>
                  <MaxCallbackThreshold>4</MaxCallbackThreshold/>
                </Data>
              </Data>
            </CallbackRequest>
          </s:Body>
        </s:Envelope>
        """;

    private const string SoapCompletedMessage = """
        <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
          <s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
            <CallbackRequest xmlns="http://nphase.com/unifiedwebservice/v2">
              <Username/>
              <Password/>
              <RequestId>5ddb1e8a-8539-40fa-b3c5-b2c63281fbe2</RequestId>
              <Data>
                <Data>
                  <CarrierService xsi:nil="true"/>
                  <ExternalProvisioningChange xsi:nil="true"/>
                  <PromoChange xsi:nil="true"/>
                  <SMSDelivery xsi:nil="true"/>
                  <PRLInformation xsi:nil="true"/>
                  <GoToState xsi:nil="true"/>
                  <Fault xsi:nil="true"/>
                  <Comment>Request Completed Processing</Comment>
                  <Summary xsi:nil="true"/>
                  <Status xsi:nil="true" />
                  <CallbackCount>1</CallbackCount>
                  <MaxCallbackThreshold>4</MaxCallbackThreshold/>
                </Data>
              </Data>
            </CallbackRequest>
          </s:Body>
        </s:Envelope>
        """;

    [Fact]
    public void Parse_FailureExample_ReadsFaultAndEnvelope()
    {
        ThingSpaceCallback callback = ThingSpaceCallback.Parse(FailureExample);

        Assert.Equal("076f7ea9-8230-49b1-9386-8dafaddc7d9e", callback.RequestId);
        Assert.Equal(["Iccid", "Imei"], callback.DeviceIds!.Select(d => d.Kind));
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive", callback.FaultResponse?.FaultCode);
        Assert.Equal("REQUEST_FAILED. Device is already active", callback.FaultResponse?.FaultString);
        Assert.True(callback.IsFailure);
        Assert.False(callback.IsRequestCompleted);
        Assert.Equal((1, 4), (callback.CallbackCount, callback.MaxCallbackThreshold));
        Assert.Equal(string.Empty, callback.Username);
        Assert.Null(callback.DeviceResponseKind);
        Assert.Null(callback.ReadDeviceAction());
    }

    [Fact]
    public void Parse_ChangeIdentifierExample_TypedReaderReturnsNewIds()
    {
        ThingSpaceCallback callback = ThingSpaceCallback.Parse(ChangeIdentifierExample);

        Assert.False(callback.IsFailure);
        Assert.Equal("changeIdentifierResponse", callback.DeviceResponseKind);
        DeviceActionCallbackResponse? change = callback.ReadDeviceAction();
        Assert.NotNull(change);
        Assert.Equal("A1000001999990", Assert.Single(change.DeviceIds!).Id);
        Assert.Equal("M2M_4G", change.ServicePlan);
        Assert.Null(callback.ReadAvailability());
    }

    [Fact]
    public void Parse_RequestCompletedMessage_IsRecognised()
    {
        ThingSpaceCallback callback = ThingSpaceCallback.Parse("""
            {"username":"","password":"","requestId":"r-1","deviceIds":[],
             "comment":"Request Completed Processing","status":"Success","callbackCount":1,"maxCallbackThreshold":4}
            """);

        Assert.True(callback.IsRequestCompleted);
        Assert.Empty(callback.DeviceIds!);
        Assert.Equal("r-1", callback.RequestId);
    }

    [Fact]
    public void Parse_UnknownMembersAndSingleDeviceObject_AreTolerated()
    {
        ThingSpaceCallback callback = ThingSpaceCallback.Parse("""
            {"requestId":"r","deviceIds":{"id":"1","kind":"imei"},"niddResponse":{"niddMTDeliveryResponse":{}},"status":"Delivered",
             "deviceResponse":{"deviceAvailabilityResponse":{"deviceFound":true,"associatedWithMTN":false,"productType":"4GODI_DATA","sku":"S1"}}}
            """);

        Assert.Single(callback.DeviceIds!);
        Assert.True(callback.AdditionalMembers.ContainsKey("niddResponse"));
        DeviceAvailabilityCallbackResponse? availability = callback.ReadAvailability();
        Assert.Equal((true, false, "4GODI_DATA"), (availability?.DeviceFound, availability?.AssociatedWithMtn, availability?.ProductType));
    }

    [Fact]
    public void Parse_SuspensionStatusPayload_ReadsCounters()
    {
        ThingSpaceCallback callback = ThingSpaceCallback.Parse("""
            {"requestId":"r","deviceResponse":{"deviceSuspensionStatus":{"deviceIds":[{"id":"9083074681","kind":"mdn"}],"state":"suspend",
             "suspendDate":"02/29/2017","maxSuspendDaysAllowed":180,"numDaysSuspendedLast12Months":"93","numDaysSuspendAllowedCurrent12Months":87}},"status":"Success"}
            """);

        DeviceSuspensionStatusCallbackResponse? status = callback.ReadSuspensionStatus();

        Assert.Equal("suspend", status?.State);
        Assert.Equal((180, 93, 87), (status?.MaxSuspendDaysAllowed, status?.NumDaysSuspendedLast12Months, status?.NumDaysSuspendAllowedCurrent12Months));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[1,2]")]
    [InlineData("{\"requestId\":")]
    [InlineData("null")]
    public void Parse_Malformed_ThrowsFormatException(string body)
    {
        FormatException error = Assert.Throws<FormatException>(() => ThingSpaceCallback.Parse(body));
        Assert.Contains("callback", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SoapParser_SeedDeviceMessage_ReadsSuspensionData()
    {
        SoapSuspensionStatusCallback callback = SoapSuspensionStatusCallbackParser.Parse(SoapDeviceMessage);

        Assert.Equal("5ddb1e8a-8539-40fa-b3c5-b2c63281fbe2", callback.RequestId);
        Assert.False(callback.IsRequestCompleted);
        Assert.Null(callback.Username);
        Assert.Null(callback.Fault);
        Assert.Equal((1, 4), (callback.CallbackCount, callback.MaxCallbackThreshold));
        SoapDeviceSuspendStatus status = Assert.IsType<SoapDeviceSuspendStatus>(callback.DeviceSuspendStatus);
        Assert.Equal(["Mdn:9083074681", "Meid:A100001F702731"], status.Devices.Select(d => $"{d.Kind}:{d.Id}"));
        Assert.Equal("suspend", status.State);
        Assert.Equal("02/29/2017", status.SuspendDate);
        Assert.Equal("04/01/2017", status.ExpectedResumeDate);
        Assert.Equal(180, status.MaxSuspendDaysAllowed);
        Assert.Equal(93, status.NumDaysSuspendedLast12Months);
        Assert.Equal(87, status.NumDaysSuspendAllowedCurrent12Months);
        Assert.Null(status.TimesSuspendedLast12Months);
        Assert.Null(status.Fault);
    }

    [Fact]
    public void SoapParser_SeedCompletedMessage_IsRecognised()
    {
        SoapSuspensionStatusCallback callback = SoapSuspensionStatusCallbackParser.Parse(SoapCompletedMessage);

        Assert.True(callback.IsRequestCompleted);
        Assert.Null(callback.DeviceSuspendStatus);
        Assert.Equal("Request Completed Processing", callback.Comment);
        Assert.Equal("5ddb1e8a-8539-40fa-b3c5-b2c63281fbe2", callback.RequestId);
    }

    [Fact]
    public void SoapParser_DeviceFault_IsRead()
    {
        const string nilFault = "<Fault xsi:nil=\"true\"/>\n          </DeviceSuspendStatus>";
        const string deviceFault =
            "<Fault><faultcode>DeviceService.REQUEST_FAILED.DeviceNotFound</faultcode><faultstring>not found</faultstring></Fault></DeviceSuspendStatus>";
        Assert.Contains(nilFault, SoapDeviceMessage, StringComparison.Ordinal);
        string xml = SoapDeviceMessage.Replace(nilFault, deviceFault, StringComparison.Ordinal);

        SoapSuspensionStatusCallback callback = SoapSuspensionStatusCallbackParser.Parse(xml);

        Assert.Equal("DeviceService.REQUEST_FAILED.DeviceNotFound", callback.DeviceSuspendStatus?.Fault?.FaultCode);
    }

    [Theory]
    [InlineData("<not-xml", "not well-formed")]
    [InlineData("<Envelope><Body/></Envelope>", "no CallbackRequest")]
    [InlineData("<!DOCTYPE x [<!ENTITY e \"boom\">]><CallbackRequest>&e;</CallbackRequest>", "not well-formed")]
    [InlineData("<CallbackRequest><Data><Data><CallbackCount>one</CallbackCount></Data></Data></CallbackRequest>", "CallbackCount must be an integer")]
    public void SoapParser_BadInput_ThrowsFormatExceptionSayingWhat(string xml, string expected)
    {
        FormatException error = Assert.Throws<FormatException>(() => SoapSuspensionStatusCallbackParser.Parse(xml));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
