// The real configuration examples quoted in the spec (§4.1, §4.4–4.13), as fixture strings.

export const CLUSTER_TWO_LANS = `<cluster><lans>
  <lan name="default"><node name="node1" addr="192.168.1.67"/><node name="node2" addr="192.168.1.68"/></lan>
  <lan name="repli"><node name="node1" addr="10.0.0.1"/><node name="node2" addr="10.0.0.2"/></lan>
</lans></cluster>`;

export const CLUSTER_NAT = `<cluster><lans><lan name="default">
  <node name="node1" addr="server1.dns.name" laddr="10.0.0.1"/>
  <node name="node2" addr="server2.dns.name" laddr="10.0.0.2"/>
</lan></lans></cluster>`;

export const CLUSTER_AWS_7X = `<?xml version="1.0" encoding="utf-8"?>
<cluster>
  <lans>
    <lan name="console" console="on" command="off" framework="off">
      <node name="node1" addr="10.0.1.10"/>
      <node name="node2" addr="10.0.2.10"/>
    </lan>
    <lan name="default" console="on" command="on" framework="on">
      <node name="node1" addr="10.0.1.11"/>
      <node name="node2" addr="10.0.2.11"/>
    </lan>
  </lans>
</cluster>`;

export const CLUSTER_THREE_NODES = `<cluster><lans port="4800" pulse="100" mlost_count="20" slost_count="10">
  <lan name="default">
    <node name="node1" addr="10.1.0.1"/><node name="node2" addr="10.1.0.2"/><node name="node3" addr="10.1.0.3"/>
  </lan>
</lans></cluster>`;

export const MIRROR_SAFE = `<!DOCTYPE safe>
<safe>
<macro name="SERVICES" value="service1, service2"/>
<service mode="mirror" boot="on">
  <heart><heartbeat name="default"></heartbeat></heart>
  <vip><interface_list><interface check="on"><real_interface>
    <virtual_addr addr="10.1.0.126" where="one_side_alias" check="on"/>
  </real_interface></interface></interface_list></vip>
  <rfs><replicated dir="e:\\repdir"/></rfs>
  <user><var name="SERVICES" value="%SERVICES%"/></user>
</service>
</safe>`;

export const FARM_SAFE = `<!DOCTYPE safe>
<safe>
<macro name="SERVICES" value="service1, service2"/>
<service mode="farm" boot="on"><farm><lan name="default"></lan></farm><vip><interface_list><interface check="on"><virtual_interface type="vmac_directed"><virtual_addr addr="10.1.0.126" where="alias" check="on"/></virtual_interface></interface></interface_list><loadbalancing_list><group name="FarmProto"><rule port="9010" proto="tcp" filter="on_port"/></group></loadbalancing_list></vip><user><var name="SERVICES" value="%SERVICES%"/></user></service>
</safe>`;

export const FARM_POWER = `<safe>
<service mode="farm">
  <farm><lan name="default"/></farm>
  <vip>
    <interface_list>
      <interface check="on">
        <virtual_interface type="vmac_directed">
          <virtual_addr addr="10.1.0.126" where="alias" check="on"/>
        </virtual_interface>
      </interface>
    </interface_list>
    <loadbalancing_list>
      <group name="http_service">
        <cluster>
          <host name="node1" power="3"/>
          <host name="node2" power="1"/>
          <host name="node3" power="1"/>
        </cluster>
        <rule port="80" proto="tcp" filter="on_addr"/>
      </group>
      <group name="https_service">
        <cluster>
          <host name="node1" power="1"/>
          <host name="node2" power="3"/>
          <host name="node3" power="1"/>
        </cluster>
        <rule port="443" proto="tcp" filter="on_addr"/>
      </group>
      <group name="httpproxy_service">
        <cluster>
          <host name="node1" power="1"/>
          <host name="node2" power="1"/>
          <host name="node3" power="3"/>
        </cluster>
        <rule port="8080" proto="tcp" filter="on_addr"/>
      </group>
    </loadbalancing_list>
  </vip>
  <user/>
</service>
</safe>`;

export const SOFTERRD = `<safe>
<service mode="light">
  <user/>
  <errd>
    <proc name="mybin.exe" action="restart" class="prim"/>
    <proc name="myotherbin.exe" action="stop" class="second"/>
    <proc name="myappli.exe" action="restart_myappli" class="myappli"/>
  </errd>
</service>
</safe>`;

export const LEADER = `<safe>
<service mode="mirror" defaultprim="alone">
  <heart><heartbeat name="default"/><heartbeat name="private" ident="flow"/></heart>
  <rfs><replicated dir="/var/leader"/></rfs>
  <user/>
</service>
</safe>`;

export const FOLLOWER = `<safe>
<service mode="light">
  <user/>
  <check><module name="leader"/></check>
</service>
</safe>`;

export const FOLLOWER_EXPLICIT = `<safe>
<service mode="light">
  <user/>
  <check><module name="leader"><to addr="127.0.0.1" port="9010"/></module></check>
</service>
</safe>`;

export const AWS_MIRROR_7X = `<!DOCTYPE safe>
<safe>
<service mode="mirror" defaultprim="alone" maxloop="3" loop_interval="24" failover="on">
  <heart pulse="700" timeout="30000">
    <heartbeat name="default" ident="flow"/>
  </heart>
  <rfs mountover="off" async="second" locktimeout="200" nbrei="3" nbremconn="4">
    <replicated dir="/var/replicated" mode="read_only"/>
  </rfs>
  <user/>
</service>
</safe>`;

export const AWS_FARM_7X = `<safe>
<service mode="farm" maxloop="3" loop_interval="24"><farm><lan name="default"/></farm><user/></service>
</safe>`;

export const RFS_WINDOWS_SIMPLE = `<safe><service mode="mirror">
  <heart><heartbeat name="default"/></heart>
  <rfs><replicated dir="c:\\safedir"/></rfs>
</service></safe>`;

export const HYPERV = `<safe>
<macro name="VM_PATH" value="c:\\Hyper-V"/>
<macro name="VM_NAME" value="vm1"/>
<service mode="mirror">
  <heart><heartbeat name="default"/></heart>
  <rfs scripts="on" acl="on" namespacepolicy="0" allocthreshold="10"><replicated dir="%VM_PATH%\\%VM_NAME%"/></rfs>
  <user/>
</service>
</safe>`;

export const MIRROR_FULL = `<safe>
<service mode="mirror" boot="auto" boot_delay="2m" defaultprim="node1" maxloop="5" loop_interval="12h"
         automatic_reboot="on">
  <heart port="9000" pulse="1s" timeout="20s" permanent_arp="off">
    <heartbeat name="default" pulse="500ms"/>
    <heartbeat name="repli" ident="flow" timeout="1m"/>
  </heart>
  <rfs async="none" iotimeout="5m" locktimeout="100s" sendtimeout="30" nbrei="6" reipacketsize="8388608"
       ruzone_blocksize="8388608" namespacepolicy="4" reitimeout="150s" reicommit="0" reidetail="on"
       allocthreshold="0" nbremconn="1" checktime="220s" checkintv="120s" nfsbox_options="nocross"
       reiallowedbw="10000" syncdelta="60" syncat="01 0 * * *" roflags="0x10000">
    <replicated dir="/var/data" mode="read_only">
      <tocheck path="marker.txt"/>
      <notreplicated path="tmp"/>
      <notreplicated regexpath="\\.log$"/>
      <notreplicated regexpath="!^keep"/>
    </replicated>
    <replicated dir="/var/other"/>
  </rfs>
  <vip tcpreset="off">
    <interface_list>
      <interface check="on" arpreroute="on" arpinterval="30s" arpelapse="10m" name="eth0">
        <real_interface>
          <virtual_addr addr="192.168.1.222" where="one_side_alias" check="on" connections="on"
                        netmask="255.255.255.0"/>
          <virtual_addr addr="2001:db8::5" where="one_side"/>
        </real_interface>
      </interface>
    </interface_list>
  </vip>
  <user nicestoptimeout="60" forcestoptimeout="2m" logging="none" userlogsize="4096">
    <var name="APP" value="myapp"/>
  </user>
  <vhost><virtualhostname name="vhost1" envfile="vhostenv" when="both"/></vhost>
  <errd polltimer="10s">
    <proc name="appli.exe" atleast="1" action="restart" class="prim"/>
    <proc name="mysqld" service="yes" nameregex="mysql.*" argregex="--port" atleast="2" atmax="4"
          action="stopstart" restart_services="S2, S3" class="both" start_after="3"/>
  </errd>
  <check>
    <tcp ident="R1test" when="prim" action="restart"><to addr="127.0.0.1" port="80" interval="5s" timeout="2s"/></tcp>
    <ping ident="testR2"><to addr="192.168.1.1"/></ping>
    <intf when="pre" ident="10.0.0.0"><to local_addr="10.0.0.107"/></intf>
    <ip ident="10.0.0.129" when="prim"><to addr="10.0.0.129"/></ip>
    <custom ident="AppChecker" when="prim" exec="checker.sh" arg="-v" action="stopstart"/>
    <module ident="db" name="other"><to addr="10.0.0.5" port="9453" secure="on"/></module>
    <splitbrain ident="witness" exec="ping" arg="w1 w2"/>
  </check>
  <failover extends="yes" period="2s" handle_time="6s">
    <![CDATA[
checkfile_failure: if( custom.checkfile == down ) then restart();
]]>
    <![CDATA[--Lua Rules
Rules.disable("ip_failure")
]]>
  </failover>
</service>
</safe>`;

export const ALL_USERCONFIG_EXAMPLES: Readonly<Record<string, string>> = {
  "mirror.safe": MIRROR_SAFE,
  "farm.safe": FARM_SAFE,
  "farm power": FARM_POWER,
  "softerrd.safe": SOFTERRD,
  "leader": LEADER,
  "follower": FOLLOWER,
  "follower with explicit <to>": FOLLOWER_EXPLICIT,
  "AWS 7.x mirror": AWS_MIRROR_7X,
  "AWS 7.x farm": AWS_FARM_7X,
  "rfs c:\\safedir": RFS_WINDOWS_SIMPLE,
  "hyperv.safe rfs": HYPERV,
  "mirror with every element": MIRROR_FULL,
};
